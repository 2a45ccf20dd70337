{#- Snowflake governance DDL (masking policies, grants, search optimization) goes through one runner.

    Every statement is logged as `governance: <statement>;` (one line) and then run. The emulator target
    (fakesnow) does not parse CREATE/ALTER MASKING POLICY, GRANT, SHOW GRANTS or ADD SEARCH OPTIMIZATION,
    so there the statements are only logged: tests read them from dbt's output and check them. Other
    engines (DuckDB) have no such objects; the callers pass no statements there. -#}
{% macro run_governance_ddl(statements) %}
    {%- for statement in statements -%}
        {%- set one_line = statement | trim | replace('\n', ' ') -%}
        {{ log('governance: ' ~ one_line ~ ';', info=true) }}
        {%- if target.name != 'emulator' -%}
            {% do run_query(statement) %}
        {%- endif -%}
    {%- endfor -%}
{% endmacro %}

{#- dbt's native `grants:` config ends here on Snowflake: each GRANT/REVOKE through run_governance_ddl. -#}
{% macro snowflake__call_dcl_statements(dcl_statement_list) %}
    {% do run_governance_ddl(dcl_statement_list) %}
{% endmacro %}

{#- The object type ALTER names, by the node's materialization (table for tables, incremental models, snapshots). -#}
{% macro relation_kind(materialized) -%}
    {{ {'view': 'view', 'dynamic_table': 'dynamic table'}.get(materialized, 'table') }}
{%- endmacro %}
