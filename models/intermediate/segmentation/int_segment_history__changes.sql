{#-
    This build's segment of every customer next to the one the history holds (the latest
    version of int_segment_history__versions), for a build that promoted: a child of
    segment_model_promotions, so a build that failed a gate skips it and `dbt run`, which
    promotes nothing, finds no promotion of its own and gives no rows. The stored history is
    read from the tables the previous builds left (a ref would make a cycle); it starts
    again only on `--full-refresh` with shop_history_full_refresh.
-#}
{%- set versions = shopseg_built_relation('int_segment_history__versions') -%}
{%- set transitions = shopseg_built_relation('segment_transitions') -%}
{%- set forget = flags.FULL_REFRESH and shop_var_bool('shop_history_full_refresh', false) -%}
{%- set kept = versions is not none and transitions is not none and not forget -%}
with

promotions as (
    select * from {{ ref('shopseg', 'segment_model_promotions') }}
),

segments as (
    select * from {{ ref('shopseg', 'customer_segments') }}
),

latest as (
    select max(promotion_seq) as promotion_seq from promotions
),

promoted_now as (
    -- the latest promotion, if this build made it
    select
        promotions.run_id,
        promotions.as_of_at
    from promotions
    inner join latest
        on promotions.promotion_seq = latest.promotion_seq
    where promotions.invocation_id = '{{ invocation_id }}'
),

{% if kept -%}

    stored as (
        select * from {{ versions }}
    ),

    ranked as (
        select
            customer_id,
            segment_id,
            segment_name,
            row_number() over (partition by customer_id order by build_seq desc) as recency
        from stored
    ),

    previous as (
        -- a customer who left the shop's data has a last version without a segment
        select
            customer_id,
            segment_id,
            segment_name
        from ranked
        where recency = 1 and segment_id is not null
    ),

    builds as (
        select coalesce(max(build_seq), 0) as build_seq from {{ transitions }}
    ),

{%- else %}

    previous as (
        select
            cast(null as {{ dbt.type_string() }}) as customer_id,
            cast(null as {{ dbt.type_bigint() }}) as segment_id,
            cast(null as {{ dbt.type_string() }}) as segment_name
        from promoted_now
        where 1 = 0
    ),

    builds as (
        select 0 as build_seq
    ),

{%- endif %}

current_segments as (
    select
        segments.customer_id,
        segments.segment_id,
        segments.segment_name
    from segments
    inner join promoted_now
        on segments.run_id = promoted_now.run_id
),

paired as (
    select
        coalesce(current_segments.customer_id, previous.customer_id) as customer_id,
        previous.segment_id as from_segment_id,
        previous.segment_name as from_segment_name,
        current_segments.segment_id as to_segment_id,
        current_segments.segment_name as to_segment_name
    from current_segments
    full outer join previous
        on current_segments.customer_id = previous.customer_id
),

final as (
    select
        paired.customer_id,
        paired.from_segment_id,
        paired.from_segment_name,
        paired.to_segment_id,
        paired.to_segment_name,
        promoted_now.run_id,
        promoted_now.as_of_at,
        cast(builds.build_seq + 1 as {{ dbt.type_bigint() }}) as build_seq
    from paired
    cross join promoted_now
    cross join builds
)

select * from final
