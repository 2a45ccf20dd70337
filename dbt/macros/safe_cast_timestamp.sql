{#- A UTC timestamp without time zone; null when the value cannot be parsed.
    Local (DuckDB): the Delta column is a timestamp (UTC session) or a string.
    Snowflake: the external tables expose timestamps as text, and TRY_CAST takes text only. -#}
{% macro safe_cast_timestamp(column_name) -%}
    {{ return(adapter.dispatch('safe_cast_timestamp')(column_name)) }}
{%- endmacro %}

{% macro default__safe_cast_timestamp(column_name) -%}
    try_cast({{ column_name }} as timestamp)
{%- endmacro %}

{% macro snowflake__safe_cast_timestamp(column_name) -%}
    try_cast({{ column_name }} as timestamp_ntz)
{%- endmacro %}
