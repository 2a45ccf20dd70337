with source as (
    select * from {{ source('salesforce', 'accounts') }}
),

cleaned as (
    select
        account_id,
        nullif(trim(account_name), '') as account_name,
        nullif(trim(industry), '') as industry,
        case when annual_revenue > 0 then annual_revenue end as annual_revenue,
        {{ standardize_country_code('billing_country') }} as billing_country_code,
        {{ safe_cast_timestamp('created_at') }} as created_at,
        {{ safe_cast_timestamp('updated_at') }} as updated_at,
        coalesce(trim(account_name), '') = '' as is_missing_name,
        coalesce(trim(industry), '') = '' as is_missing_industry
    from source
)

select
    *,
    {{ surrogate_key(['account_id']) }} as account_sk
from cleaned
