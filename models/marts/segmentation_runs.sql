{#-
    One row per segmentation run (every stored model), with what it was fitted on and how
    good it is. The current run also carries this build's scoring: customers scored and
    the stability against the previous build's assignment (adjusted Rand index).
-#}
with

runs as (
    select * from {{ ref('shopseg', 'int_segment_runs') }}
),

as_of as (
    select * from {{ ref('shopseg', 'int_shop__as_of') }}
),

assignments as (
    select * from {{ ref('shopseg', 'segment_kmeans_assignments') }}
),

migration as (
    select * from {{ ref('shopseg', 'segment_migration') }}
),

scored as (
    select
        run_id,
        count(*) as customers,
        count(case when is_outlier then 1 end) as outlier_customers
    from assignments
    group by 1
),

pair_counts as (
    -- adjusted Rand index from the contingency table of previous x current segments
    select
        sum(1.0 * customers * (customers - 1) / 2) as index_pairs,
        sum(customers) as common_customers
    from migration
),

from_pairs as (
    select sum(1.0 * customers * (customers - 1) / 2) as pairs
    from (
        select
            from_segment_id,
            sum(customers) as customers
        from migration
        group by 1
    ) as from_sizes
),

to_pairs as (
    select sum(1.0 * customers * (customers - 1) / 2) as pairs
    from (
        select
            to_segment_id,
            sum(customers) as customers
        from migration
        group by 1
    ) as to_sizes
),

ari_terms as (
    select
        pair_counts.common_customers,
        pair_counts.index_pairs,
        (from_pairs.pairs + to_pairs.pairs) / 2 as max_pairs,
        case
            when pair_counts.common_customers >= 2
                then
                    from_pairs.pairs * to_pairs.pairs
                    / (pair_counts.common_customers * (pair_counts.common_customers - 1) / 2.0)
        end as expected_pairs
    from pair_counts
    cross join from_pairs
    cross join to_pairs
),

stability as (
    select
        common_customers,
        case
            when common_customers < 2 then null
            when max_pairs = expected_pairs then 1.0
            else (index_pairs - expected_pairs) / (max_pairs - expected_pairs)
        end as stability_ari
    from ari_terms
),

final as (
    select
        runs.run_id,
        runs.run_seq,
        runs.is_current,
        case when runs.is_current then as_of.as_of_at end as as_of_at,
        runs.algorithm,
        cast(runs.fit_customers as {{ dbt.type_int() }}) as fit_customers,
        scored.customers,
        scored.outlier_customers,
        cast(runs.k as {{ dbt.type_int() }}) as k,
        runs.silhouette,
        runs.bootstrap_stability,
        runs.inertia,
        cast(runs.fit_sample_size as {{ dbt.type_int() }}) as fit_sample_size,
        runs.k_rule,
        runs.status,
        runs.features_used,
        runs.features_dropped,
        runs.previous_run_id,
        case
            when runs.is_current
                then cast(stability.common_customers as {{ dbt.type_bigint() }})
        end as stability_common_customers,
        case when runs.is_current then stability.stability_ari end as stability_ari
    from runs
    cross join as_of
    cross join stability
    left join scored
        on runs.run_id = scored.run_id
)

select * from final
