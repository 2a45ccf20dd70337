{#- Snowflake search optimization for point lookups, from a model's config:
        config(meta={'search_optimization_equality': ['user_id', 'event_type']})
    Post-hook of every model: `alter table ... add search optimization on equality(...)` on Snowflake when the
    model asks for it; nothing elsewhere. The role needs ADD SEARCH OPTIMIZATION on the schema and ownership of
    the table. A table rebuilt by `create or replace` loses it and gets it back here, at the cost of rebuilding
    the search access paths. -#}
{% macro search_optimization_ddl(relation, columns) %}
    {%- if not columns -%}{{ return([]) }}{%- endif -%}
    {{ return(['alter table ' ~ relation ~ ' add search optimization on equality(' ~ (columns | join(', ')) ~ ')']) }}
{% endmacro %}

{% macro add_search_optimization() %}
    {%- if execute and target.type == 'snowflake' -%}
        {%- set columns = (config.get('meta') or {}).get('search_optimization_equality') -%}
        {% do run_governance_ddl(search_optimization_ddl(this, columns)) %}
    {%- endif -%}
{% endmacro %}
