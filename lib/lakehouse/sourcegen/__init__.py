"""The local operational source: Postgres tables (users, orders), their seed and a live writer,
and files as an external loader (Airbyte) lands them in the lake's raw prefix."""
