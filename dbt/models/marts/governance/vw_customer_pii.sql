{#- Users with email and full name masked unless the reader's role is privileged (var pii_privileged_roles).
    On Snowflake a secure view checks current_role() at query time; see macros/governance/pii_masking.sql for the
    local equivalent. -#}
{{ config(materialized='view', secure=true, grants={'select': ['REPORTER'] + var('pii_privileged_roles')}) }}

select
    user_id,
    case when {{ is_privileged_role() }} then email else {{ mask_email('email') }} end as email,
    case when {{ is_privileged_role() }} then full_name else {{ mask_full_name('full_name') }} end as full_name,
    country_code,
    created_at,
    last_login_at
from {{ ref('stg_users__users') }}
