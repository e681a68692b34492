select
    event_id,
    user_id as customer_id,
    domain_sessionid as session_id,
    event_name as event_type,
    collector_tstamp as occurred_at
from {{ source('shop', 'events') }}
