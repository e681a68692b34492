{#-
    Customers per (segment before, segment after) of every promoted build, appended by each
    one: entering and leaving each segment, staying (from = to), new customers (from null)
    and customers no longer in the shop's data (to null).
-#}
{#- --full-refresh rebuilds it only when the user asks (shop_history_full_refresh) -#}
{{ config(full_refresh=none if shop_var_bool('shop_history_full_refresh', false) else false) }}
with

changes as (
    select * from {{ ref('shopseg', 'int_segment_history__changes') }}
),

final as (
    select
        build_seq,
        run_id,
        as_of_at,
        from_segment_id,
        min(from_segment_name) as from_segment_name,
        to_segment_id,
        min(to_segment_name) as to_segment_name,
        coalesce(
            from_segment_id is not null
            and to_segment_id is not null
            and from_segment_id != to_segment_id,
            false
        ) as is_move,
        cast(count(*) as {{ dbt.type_bigint() }}) as customers
    from changes
    group by
        build_seq,
        run_id,
        as_of_at,
        from_segment_id,
        to_segment_id
)

select * from final
