{#- For a reader without a privileged role, no email or full name in vw_customer_pii is in clear text. -#}
select users.user_id
from {{ ref('vw_customer_pii') }} as pii
inner join {{ ref('stg_users__users') }} as users on pii.user_id = users.user_id
where not ({{ is_privileged_role() }})
    and (pii.email = users.email or pii.full_name = users.full_name)
