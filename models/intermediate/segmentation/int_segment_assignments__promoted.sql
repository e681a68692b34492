{#-
    The assignment of the last promoted build (segment_promoted_assignments, for the latest
    segment_model_promotions row), which segment_kmeans_assignments compares with: previous
    segments never come from a build that failed a gate. Read from the tables the previous
    builds left, not through ref (they are built at the end of this one); empty before the
    first promotion, and when the store no longer holds the promoted model (full refresh).
-#}
{%- set promotions = shopseg_built_relation('segment_model_promotions') -%}
{%- set promoted_assignments = shopseg_built_relation('segment_promoted_assignments') -%}
with

store as (
    select distinct run_id from {{ ref('shopseg', 'segment_kmeans_fit') }}
),

{% if promotions is not none and promoted_assignments is not none -%}

    promotions as (
        select * from {{ promotions }}
    ),

    previous as (
        select * from {{ promoted_assignments }}
    ),

    latest as (
        select max(promotion_seq) as promotion_seq from promotions
    ),

    promoted as (
        select promotions.run_id
        from promotions
        inner join latest
            on promotions.promotion_seq = latest.promotion_seq
    ),

    final as (
        select
            previous.customer_id,
            previous.segment_id,
            previous.run_id
        from previous
        inner join promoted
            on previous.run_id = promoted.run_id
        inner join store
            on previous.run_id = store.run_id
    )

{%- else %}

    final as (
        select
            cast(null as {{ dbt.type_string() }}) as customer_id,
            cast(null as {{ dbt.type_bigint() }}) as segment_id,
            cast(null as {{ dbt.type_string() }}) as run_id
        from store
        where 1 = 0
    )
{%- endif %}

select * from final
