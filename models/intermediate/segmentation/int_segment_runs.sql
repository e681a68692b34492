{#- One row per stored K-means model: its run-level parameters, pivoted. -#}
with

history as (
    select * from {{ ref('shopseg', 'segment_kmeans_fit') }}
    where record_type = 'run'
),

latest as (
    select max(run_seq) as run_seq from history
),

runs as (
    select
        run_id,
        max(run_seq) as run_seq,
        max(case when name = 'k' then value end) as k,
        max(case when name = 'silhouette' then value end) as silhouette,
        max(case when name = 'bootstrap_stability' then value end) as bootstrap_stability,
        max(case when name = 'inertia' then value end) as inertia,
        max(case when name = 'customers' then value end) as fit_customers,
        max(case when name = 'fit_sample_size' then value end) as fit_sample_size,
        max(case when name = 'max_segment_id' then value end) as max_segment_id,
        max(case when name = 'rule' then text_value end) as k_rule,
        coalesce(max(case when name = 'algorithm' then text_value end), 'kmeans') as algorithm,
        max(case when name = 'status' then text_value end) as status,
        max(case when name = 'features' then text_value end) as features_used,
        max(case when name = 'dropped_features' then text_value end) as features_dropped,
        max(case when name = 'config' then text_value end) as config,
        max(case when name = 'versions' then text_value end) as library_versions,
        max(case when name = 'previous_run_id' then text_value end) as previous_run_id
    from history
    group by 1
),

final as (
    select
        runs.*,
        runs.run_seq = latest.run_seq as is_current
    from runs
    cross join latest
)

select * from final
