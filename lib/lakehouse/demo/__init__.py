"""The end-to-end demo behind `make demo`: the steps in order (steps), one module per part of the pipeline.

Each step is a function of (config, state) returning what it did; the domain packages hold no demo code.
"""
