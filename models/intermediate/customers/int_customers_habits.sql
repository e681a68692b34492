{#-
    When and how the customer shops: the share of their activity in each daypart and on
    weekends (wall-clock time of the shop's time zone, shop_time_zone), the share of their
    sessions with a search, and the device their events come from. Activity is the
    customer's valid events; a customer without events is timed by their valid orders.
-#}
{%- set hours = shop_daypart_start_hours() -%}
with

events as (
    select * from {{ ref('shopseg', 'int_events__flagged') }}
),

orders as (
    select * from {{ ref('shopseg', 'int_orders__cleaned') }}
),

sessions as (
    select * from {{ ref('shopseg', 'int_sessions') }}
),

valid_events as (
    -- the events int_events__sessionised keeps (is_valid), read here for their device
    select
        customer_id,
        occurred_at,
        device
    from events
    where is_valid
),

event_customers as (
    select distinct customer_id
    from valid_events
),

activity as (
    select
        customer_id,
        occurred_at as active_at
    from valid_events
    union all
    select
        orders.customer_id,
        orders.ordered_at as active_at
    from orders
    left join event_customers
        on orders.customer_id = event_customers.customer_id
    where event_customers.customer_id is null
),

local_activity as (
    select
        customer_id,
        {{ shop_hour(shop_local_time('active_at')) }} as local_hour,
        {{ shop_iso_weekday(shop_local_time('active_at')) }} as local_weekday
    from activity
),

dayparts as (
    select
        customer_id,
        count(*) as activity_count,
        count(case when local_hour < {{ hours.morning }} then 1 end) as night_count,
        count(case
            when local_hour >= {{ hours.morning }} and local_hour < {{ hours.afternoon }} then 1
        end) as morning_count,
        count(case
            when local_hour >= {{ hours.afternoon }} and local_hour < {{ hours.evening }} then 1
        end) as afternoon_count,
        count(case when local_hour >= {{ hours.evening }} then 1 end) as evening_count,
        count(case
            when local_weekday in ({{ shop_weekend_days() | join(', ') }}) then 1
        end) as weekend_count
    from local_activity
    group by customer_id
),

search_sessions as (
    select
        customer_id,
        count(*) as session_count,
        count(case when search_count > 0 then 1 end) as search_session_count
    from sessions
    group by customer_id
),

device_events as (
    select
        customer_id,
        device,
        count(*) as event_count
    from valid_events
    where device is not null
    group by customer_id, device
),

devices as (
    select
        customer_id,
        sum(event_count) as device_event_count,
        sum(case
            when device in ({{ shop_mobile_device_literals() | join(', ') }}) then event_count
            else 0
        end) as mobile_event_count
    from device_events
    group by customer_id
),

top_devices as (
    select
        customer_id,
        device as top_device,
        row_number() over (
            partition by customer_id order by event_count desc, device asc
        ) as device_rank
    from device_events
),

features as (
    select
        dayparts.customer_id,
        {% for part in ['night', 'morning', 'afternoon', 'evening', 'weekend'] -%}
            cast(dayparts.{{ part }}_count as {{ shop_type_double() }})
            / dayparts.activity_count as {{ part }}_activity_share,
        {% endfor -%}
        case
            when search_sessions.session_count > 0
                then
                    cast(search_sessions.search_session_count as {{ shop_type_double() }})
                    / search_sessions.session_count
        end as search_session_share,
        case
            when devices.device_event_count > 0
                then
                    cast(devices.mobile_event_count as {{ shop_type_double() }})
                    / devices.device_event_count
        end as mobile_event_share,
        top_devices.top_device
    from dayparts
    left join search_sessions
        on dayparts.customer_id = search_sessions.customer_id
    left join devices
        on dayparts.customer_id = devices.customer_id
    left join top_devices
        on
            dayparts.customer_id = top_devices.customer_id
            and top_devices.device_rank = 1
)

select * from features
