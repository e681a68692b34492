{#-
    The stored membership history: one row per customer and promoted build in which the
    customer's segment changed (appended, never updated, so every adapter's default append
    strategy keeps it). A customer who left the shop's data gets a row without a segment,
    which closes the last version in customer_segment_history.
-#}
{#- --full-refresh rebuilds it only when the user asks (shop_history_full_refresh) -#}
{{ config(full_refresh=none if shop_var_bool('shop_history_full_refresh', false) else false) }}
with

changes as (
    select * from {{ ref('shopseg', 'int_segment_history__changes') }}
),

final as (
    select
        customer_id,
        to_segment_id as segment_id,
        to_segment_name as segment_name,
        run_id,
        as_of_at as valid_from,
        build_seq
    from changes
    where
        from_segment_id is null
        or to_segment_id is null
        or from_segment_id != to_segment_id
)

select * from final
