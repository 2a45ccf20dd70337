{#- Masking of personal data for readers without a privileged role (the view vw_customer_pii; the column
    masking policies of macros/governance/masking_policies.sql use the same masks).

    Snowflake: the role is current_role() at query time, inside a secure view.
    Local equivalent (DuckDB has no roles): the session variable `lakehouse_role`, read at query time;
    `SET VARIABLE lakehouse_role = 'DATA_SCIENTIST'` shows clear text. It documents the rule; it is not a
    security boundary, since anyone with the DuckDB file can read the staging tables. -#}
{% macro is_privileged_role() -%}
    {{ return(adapter.dispatch('is_privileged_role')()) }}
{%- endmacro %}

{% macro default__is_privileged_role() -%}
    coalesce(upper(cast(getvariable('lakehouse_role') as varchar)), '') in ({{ _quoted_roles() }})
{%- endmacro %}

{% macro snowflake__is_privileged_role() -%}
    current_role() in ({{ _quoted_roles() }})
{%- endmacro %}

{% macro _quoted_roles(roles=none) -%}
    {%- for role in (roles if roles is not none else var('pii_privileged_roles')) -%}
        '{{ role | upper }}'{{ ', ' if not loop.last }}
    {%- endfor -%}
{%- endmacro %}

{#- `jo***@example.com`: keeps at most two characters before the @ and the domain. -#}
{% macro mask_email(column_name) -%}
    regexp_replace({{ column_name }}, '^([^@]{1,2})[^@]*@', '{{ _backreference(1) }}***@')
{%- endmacro %}

{#- `Jo***`: keeps at most the first two characters. -#}
{% macro mask_full_name(column_name) -%}
    regexp_replace({{ column_name }}, '^(.{1,2}).*$', '{{ _backreference(1) }}***')
{%- endmacro %}

{#- A regex backreference inside a SQL string literal: Snowflake unescapes backslashes in literals. -#}
{% macro _backreference(number) -%}
    {%- if target.type == 'snowflake' -%}\\{{ number }}{%- else -%}\{{ number }}{%- endif -%}
{%- endmacro %}
