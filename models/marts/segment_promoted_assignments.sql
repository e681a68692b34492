{#-
    Every customer's segment in the last build that passed every gate (the latest
    segment_model_promotions row): what the next build compares with for previous_segment_id,
    segment_migration and the stability ARI. A build that promoted nothing (a failed gate
    skips this model; `dbt run` promotes nothing) keeps the table as it was.
-#}
{%- set kept = load_relation(this) if execute else none -%}
with

promotions as (
    select * from {{ ref('shopseg', 'segment_model_promotions') }}
),

assignments as (
    select * from {{ ref('shopseg', 'segment_kmeans_assignments') }}
),

latest as (
    select max(promotion_seq) as promotion_seq from promotions
),

promoted_now as (
    -- the latest promotion, if this build made it
    select promotions.run_id
    from promotions
    inner join latest
        on promotions.promotion_seq = latest.promotion_seq
    where promotions.invocation_id = '{{ invocation_id }}'
),

final as (
    select
        assignments.customer_id,
        assignments.segment_id,
        assignments.run_id
    from assignments
    inner join promoted_now
        on assignments.run_id = promoted_now.run_id
    {%- if kept is not none %}

    union all

    select
        kept.customer_id,
        kept.segment_id,
        kept.run_id
    from {{ kept }} as kept
    where not exists (select 1 from promoted_now)
    {%- endif %}
)

select * from final
