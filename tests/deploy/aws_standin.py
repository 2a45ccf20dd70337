"""The AWS side of the stand-in, in a process of its own: moto's server (S3, EMR, Secrets Manager)
and EMR's command runner, which moves moto's step objects and so must live beside them.

A process of its own, so that serving S3 to the Spark jobs never waits for the test process's
interpreter (Airflow's triggers, deltalake's reads). Runs until terminated:

    python -m tests.deploy.aws_standin --port P --node NODE.json --logs DIR

Every finished step is appended to DIR/steps.jsonl (command_runner.StepLog).
"""
from __future__ import annotations

import argparse
import logging
import signal
import threading
from pathlib import Path

from tests.deploy.command_runner import CommandRunner
from tests.deploy.standin import EmrStandIn


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--node", type=Path, required=True, help="the EMR stand-in's node (EmrStandIn.save)")
    parser.add_argument("--logs", type=Path, required=True, help="folder for the steps' output and steps.jsonl")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=args.port, verbose=False)
    server.start()
    runner = CommandRunner(EmrStandIn.load(args.node), args.logs)
    runner.start()
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    stopped.wait()
    runner.stop()
    server.stop()


if __name__ == "__main__":
    main()
