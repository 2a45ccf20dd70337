{#- Session integrity (the seed's session suite): a session's events all belong to one user; a session id
    seen for two users means a producer reuses ids, and per-session figures would mix people. -#}
select
    session_id,
    count(distinct user_id) as users
from {{ ref('fct_customer_events') }}
where session_id is not null
group by session_id
having count(distinct user_id) > 1
