{#- ISO 3166 alpha-2 code from a code or a country name as typed by people or source systems;
    null when it cannot be recognised. -#}
{% macro standardize_country_code(column_name) -%}
    {%- set value = "upper(trim(" ~ column_name ~ "))" -%}
    case
        when {{ value }} in ('US', 'USA', 'UNITED STATES', 'UNITED STATES OF AMERICA') then 'US'
        when {{ value }} in ('UK', 'UNITED KINGDOM', 'GB', 'GREAT BRITAIN') then 'GB'
        when {{ value }} in ('CA', 'CANADA') then 'CA'
        when {{ value }} in ('AU', 'AUSTRALIA') then 'AU'
        when {{ value }} in ('DE', 'GERMANY', 'DEUTSCHLAND') then 'DE'
        when {{ value }} in ('FR', 'FRANCE') then 'FR'
        when {{ value }} in ('NL', 'NETHERLANDS', 'THE NETHERLANDS') then 'NL'
        when {{ value }} in ('ES', 'SPAIN', 'ESPANA') then 'ES'
        when length({{ value }}) = 2 then {{ value }}
        else null
    end
{%- endmacro %}
