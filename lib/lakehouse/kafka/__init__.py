"""Python-side Kafka clients: topic administration and producers (Spark reads Kafka itself)."""
