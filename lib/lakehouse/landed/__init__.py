"""Files landed in the lake's raw prefix by external loaders (Airbyte), ingested exactly once."""
