{#-
    One version per customer and promoted build in which the customer's segment changed,
    valid from that build's as-of time until the next version's (half-open; null while
    current). A customer no longer in the shop's data has no current version.
-#}
with

versions as (
    select * from {{ ref('shopseg', 'int_segment_history__versions') }}
),

chained as (
    select
        customer_id,
        segment_id,
        segment_name,
        run_id,
        build_seq,
        valid_from,
        lead(valid_from) over (
            partition by customer_id order by build_seq
        ) as valid_to,
        lead(build_seq) over (
            partition by customer_id order by build_seq
        ) is null as is_current
    from versions
),

final as (
    select
        customer_id,
        segment_id,
        segment_name,
        run_id,
        build_seq,
        valid_from,
        valid_to,
        is_current
    from chained
    where segment_id is not null
)

select * from final
