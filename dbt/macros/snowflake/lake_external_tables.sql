{#- Snowflake external tables over the lake's silver Delta tables.

    Once per account (ACCOUNTADMIN), then hand the integration's IAM user and external id to the AWS role:
        dbt run-operation create_lake_storage_integration --target prod \
            --args '{aws_role_arn: "arn:aws:iam::123456789012:role/snowflake-lake-reader"}'
        (then: desc integration LAKE_S3_INTEGRATION)

    After every deploy, and whenever a source's columns change (creates the stage and the external tables):
        dbt run-operation create_lake_external_tables --target prod

    Before every build (Delta external tables cannot auto-refresh): daily_warehouse_build's
    `refresh_external_tables` task runs, before the freshness gate,
        dbt run-operation refresh_lake_external_tables --target prod

    The stage points at $DBT_LAKE_ROOT (s3://bucket/prefix, the lake.root of conf/<env>.yaml). Every source
    with an `external` block becomes `<raw_database>.<schema>.<table>` with one typed column per documented
    column (`value:<name>::<data_type>`) and the Delta partition columns parsed from the file path.
    `dry_run: true` logs the statements without running them, on any target (no connection needed). -#}

{% macro create_lake_storage_integration(aws_role_arn, dry_run=false) %}
    {%- set statement -%}
create storage integration if not exists {{ var('lake_storage_integration') }}
    type = external_stage
    storage_provider = 'S3'
    enabled = true
    storage_aws_role_arn = '{{ aws_role_arn }}'
    storage_allowed_locations = ('{{ lake_stage_url() }}')
    {%- endset -%}
    {% do _run_lake_statements([statement], dry_run) %}
{% endmacro %}

{% macro create_lake_external_tables(dry_run=false, refresh=true) %}
    {%- set statements = [] -%}
    {%- set schemas = [] -%}
    {%- for node in lake_external_sources() -%}
        {%- if node.schema not in schemas -%}{%- do schemas.append(node.schema) -%}{%- endif -%}
    {%- endfor -%}
    {%- for schema in [var('lake_stage_schema')] + (schemas | sort) -%}
        {%- do statements.append('create schema if not exists ' ~ var('raw_database') ~ '.' ~ schema) -%}
    {%- endfor -%}
    {%- do statements.append(lake_stage_ddl()) -%}
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

{#- The lake root as Snowflake wants it: s3:// (Spark's s3a:// names the same bucket), ending with /. -#}
{% macro lake_stage_url() -%}
    {%- set root = env_var('DBT_LAKE_ROOT') | trim -%}
    {%- if root.startswith('s3a://') -%}{%- set root = 's3://' ~ root[6:] -%}{%- endif -%}
    {%- if not root.startswith('s3://') -%}
        {{ exceptions.raise_compiler_error("DBT_LAKE_ROOT must be an s3:// URI for Snowflake, got '" ~ root ~ "'") }}
    {%- endif -%}
    {{ root.rstrip('/') ~ '/' }}
{%- endmacro %}

{% macro lake_stage_name() -%}
    {{ var('raw_database') }}.{{ var('lake_stage_schema') }}.{{ var('lake_stage') }}
{%- endmacro %}

{% macro lake_stage_ddl() -%}
create stage if not exists {{ lake_stage_name() }}
    url = '{{ lake_stage_url() }}'
    storage_integration = {{ var('lake_storage_integration') }}
    file_format = (type = parquet)
{%- endmacro %}

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
