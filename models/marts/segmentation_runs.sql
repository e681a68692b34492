{#- One row per segmentation run: what was fitted, on what, and how good it is. -#}
with

params as (
    select * from {{ ref('segment_kmeans_fit') }}
    where record_type = 'run'
),

as_of as (
    select * from {{ ref('int_shop__as_of') }}
),

assignments as (
    select
        run_id,
        count(*) as customers
    from {{ ref('segment_kmeans_assignments') }}
    group by 1
),

runs as (
    select
        run_id,
        max(case when name = 'k' then value end) as k,
        max(case when name = 'silhouette' then value end) as silhouette,
        max(case when name = 'inertia' then value end) as inertia,
        max(case when name = 'fit_sample_size' then value end) as fit_sample_size,
        max(case when name = 'rule' then text_value end) as k_rule,
        max(case when name = 'status' then text_value end) as status,
        max(case when name = 'features' then text_value end) as features_used,
        max(case when name = 'dropped_features' then text_value end) as features_dropped,
        max(case when name = 'config' then text_value end) as config
    from params
    group by 1
),

final as (
    select
        runs.run_id,
        as_of.as_of_at,
        'kmeans' as algorithm,
        assignments.customers,
        cast(runs.k as {{ dbt.type_int() }}) as k,
        runs.silhouette,
        runs.inertia,
        cast(runs.fit_sample_size as {{ dbt.type_int() }}) as fit_sample_size,
        runs.k_rule,
        runs.status,
        runs.features_used,
        runs.features_dropped,
        runs.config
    from runs
    cross join as_of
    left join assignments
        on runs.run_id = assignments.run_id
)

select * from final
