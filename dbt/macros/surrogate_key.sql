{#- A deterministic hash of the given columns (md5 hex), equal on every engine for equal values.
    Nulls and empty strings hash differently; the separator keeps ('a', 'bc') apart from ('ab', 'c'). -#}
{% macro surrogate_key(column_names) -%}
    {%- set fields = [] -%}
    {%- for column_name in column_names -%}
        {%- if not loop.first -%}{%- do fields.append("'-'") -%}{%- endif -%}
        {%- do fields.append("coalesce(cast(" ~ column_name ~ " as " ~ dbt.type_string() ~ "), '_dbt_null_')") -%}
    {%- endfor -%}
    {{ dbt.hash(dbt.concat(fields)) }}
{%- endmacro %}
