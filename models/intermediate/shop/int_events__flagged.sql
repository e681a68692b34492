{#-
    Every event row of stg_shop__events with its checks against the as-of time, and
    is_valid: no check excludes the row (a missing session_id is repaired, not excluded).
    int_events__sessionised keeps the valid rows, data_quality_issues counts each flag.
-#}
with

events as (
    select * from {{ ref('shopseg', 'stg_shop__events') }}
),

as_of as (
    select * from {{ ref('shopseg', 'int_shop__as_of') }}
),

dated as (
    select
        events.*,
        coalesce(events.occurred_at > as_of.future_cutoff_at, false) as is_occurred_in_future,
        coalesce(
            events.occurred_at > as_of.as_of_at
            and events.occurred_at <= as_of.future_cutoff_at,
            false
        ) as is_occurred_after_as_of
    from events
    cross join as_of
),

flagged as (
    select
        *,
        not is_customer_id_missing
        and not is_occurred_at_missing
        and not is_occurred_after_as_of
        and not is_occurred_in_future
            as is_valid
    from dated
)

select * from flagged
