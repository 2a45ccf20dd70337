{#- Snowflake external tables over the lake's silver Delta tables.

    The raw database, its schemas, the storage integration and the stage the tables read are Terraform's
    (infra/modules/snowflake), as are the roles: dbt runs as TRANSFORMER and never needs ACCOUNTADMIN.

    After every deploy, and whenever a source's columns change (creates the external tables):
        dbt run-operation create_lake_external_tables --target prod

    Before every build (Delta external tables cannot auto-refresh): daily_warehouse_build's
    `refresh_external_tables` task runs, before the freshness gate,
        dbt run-operation refresh_lake_external_tables --target prod

    Every source with an `external` block becomes `<raw_database>.<schema>.<table>` over its location on
    the stage (`@<raw_database>.<lake_stage_schema>.<lake_stage>/silver/<table>/`), with one typed column
    per documented column (`value:<name>::<data_type>`) and the Delta partition columns parsed from the
    file path. `dry_run: true` logs the statements without running them, on any target (no connection
    needed). -#}

{% macro create_lake_external_tables(dry_run=false, refresh=true) %}
    {%- set statements = [] -%}
    {%- for node in lake_external_sources() -%}
        {%- do statements.append(external_table_ddl(node)) -%}
        {%- if refresh -%}{%- do statements.append(external_table_refresh(node)) -%}{%- endif -%}
    {%- endfor -%}
    {% do _run_lake_statements(statements, dry_run) %}
{% endmacro %}

{#- Run before `dbt source freshness` (daily_warehouse_build does): Delta external tables never refresh
    themselves, so their metadata is as old as the last refresh. Other targets read the Delta tables
    directly: nothing to refresh there. -#}
{% macro refresh_lake_external_tables(dry_run=false) %}
    {%- if not dry_run and target.type != 'snowflake' -%}
        {{ log("target '" ~ target.name ~ "' (" ~ target.type ~ ") reads the lake's Delta tables directly: no external tables to refresh", info=true) }}
        {{ return(none) }}
    {%- endif -%}
    {%- set statements = [] -%}
    {%- for node in lake_external_sources() -%}
        {%- do statements.append(external_table_refresh(node)) -%}
    {%- endfor -%}
    {% do _run_lake_statements(statements, dry_run) %}
{% endmacro %}

{#- Source nodes of this project that declare an external table. -#}
{% macro lake_external_sources() %}
    {%- set nodes = [] -%}
    {%- for node in graph.sources.values() -%}
        {%- if node.package_name == project_name and node.external and node.external.location -%}
            {%- do nodes.append(node) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(nodes | sort(attribute='unique_id')) }}
{% endmacro %}

{% macro external_table_name(node) -%}
    {{ var('raw_database') }}.{{ node.schema }}.{{ node.identifier }}
{%- endmacro %}

{#- Delta external tables: no auto-refresh, no refresh on create (Snowflake requires both); each column is
    typed from the Parquet value, each partition column parsed from the file path. -#}
{% macro external_table_ddl(node) -%}
    {%- set external = node.external -%}
    {%- set partitions = external.partitions or [] -%}
    {%- set partition_names = partitions | map(attribute='name') | list -%}
    {%- set definitions = [] -%}
    {%- for partition in partitions -%}
        {%- do definitions.append(partition.name ~ ' ' ~ partition.data_type ~ ' as (' ~ partition.expression ~ ')') -%}
    {%- endfor -%}
    {%- for column in node.columns.values() if column.name not in partition_names -%}
        {%- if not column.data_type -%}
            {{ exceptions.raise_compiler_error("source " ~ node.source_name ~ "." ~ node.name ~ ": column " ~ column.name ~ " has no data_type") }}
        {%- endif -%}
        {%- do definitions.append(column.name ~ ' ' ~ column.data_type ~ ' as (value:' ~ column.name ~ '::' ~ column.data_type ~ ')') -%}
    {%- endfor -%}
create or replace external table {{ external_table_name(node) }} (
    {{ definitions | join(',\n    ') }}
)
{%- if partition_names %}
partition by ({{ partition_names | join(', ') }})
{%- endif %}
location = {{ external.location }}
file_format = {{ external.file_format }}
{%- if (external.table_format or '') | lower == 'delta' %}
table_format = delta
auto_refresh = false
refresh_on_create = false
{%- endif %}
{%- endmacro %}

{% macro external_table_refresh(node) -%}
alter external table {{ external_table_name(node) }} refresh
{%- endmacro %}

{% macro _run_lake_statements(statements, dry_run) %}
    {%- if not dry_run and target.type != 'snowflake' -%}
        {{ exceptions.raise_compiler_error("the lake's external tables exist on Snowflake only; target '" ~ target.name ~ "' is " ~ target.type ~ " (use dry_run: true to print the statements)") }}
    {%- endif -%}
    {%- for statement in statements -%}
        {%- if dry_run -%}
            {{ log(statement ~ ';', info=true) }}
        {%- else -%}
            {{ log('running: ' ~ statement.split('\n')[0], info=true) }}
            {% do run_query(statement) %}
        {%- endif -%}
    {%- endfor -%}
{% endmacro %}
