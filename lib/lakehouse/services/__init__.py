"""Real local servers for development and tests: a Kafka broker, PostgreSQL and an S3 endpoint."""
