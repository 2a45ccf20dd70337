"""The warehouse layer: running the dbt project (dbt/) on the local engine or on Snowflake."""
