{#- Post-hook granting read access on a model to a role: Snowflake only (the local engine has no roles,
    and the emulator target, fakesnow, does not parse GRANT). -#}
{% macro grant_select_to_role(relation, role) -%}
    {%- if target.type == 'snowflake' and target.name != 'emulator' -%}
        grant select on {{ 'view' if config.get('materialized') == 'view' else 'table' }} {{ relation }}
        to role {{ role }}
    {%- endif -%}
{%- endmacro %}
