"""Command-line tools that are not Spark jobs: local services, topics, the demo."""
