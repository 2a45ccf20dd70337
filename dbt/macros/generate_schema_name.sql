{#- Production and the local target use the folder's schema as is (STAGING, MARTS, ...); other
    targets (a developer's dev schema) prefix it with the target schema, so developers never collide. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- elif target.name in ('prod', 'local') -%}
        {{ custom_schema_name | trim }}
    {%- else -%}
        {{ target.schema }}_{{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
