{#- The day recency is measured from: var('as_of_date') when set (tests, backfills), else today (UTC). -#}
{% macro as_of_date() -%}
    {%- if var('as_of_date') -%}
        cast('{{ var("as_of_date") }}' as date)
    {%- else -%}
        cast({{ dbt.current_timestamp() }} as date)
    {%- endif -%}
{%- endmacro %}
