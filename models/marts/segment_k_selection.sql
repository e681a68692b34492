{#- One row per k tried in each run's sweep, with every quality index and the chosen k flagged. -#}
with

history as (
    select * from {{ ref('shopseg', 'segment_kmeans_fit') }}
),

runs as (
    select * from {{ ref('shopseg', 'int_segment_runs') }}
),

sweep as (
    select
        run_id,
        k,
        max(case when name = 'silhouette' then value end) as silhouette,
        max(case when name = 'inertia' then value end) as inertia,
        max(case when name = 'between_ss' then value end) as between_ss,
        max(case when name = 'calinski_harabasz' then value end) as calinski_harabasz,
        max(case when name = 'davies_bouldin' then value end) as davies_bouldin,
        max(case when name = 'min_segment_share' then value end) as min_segment_share,
        max(case when name = 'elbow_score' then value end) as elbow_score,
        max(case when name = 'sample_size' then value end) as sample_size
    from history
    where record_type = 'k_sweep'
    group by 1, 2
),

final as (
    select
        sweep.run_id,
        runs.is_current,
        sweep.k,
        sweep.silhouette,
        sweep.inertia,
        sweep.between_ss,
        sweep.calinski_harabasz,
        sweep.davies_bouldin,
        sweep.min_segment_share,
        sweep.elbow_score,
        cast(sweep.sample_size as {{ dbt.type_int() }}) as sample_size,
        sweep.k = runs.k as is_chosen
    from sweep
    inner join runs
        on sweep.run_id = runs.run_id
)

select * from final
