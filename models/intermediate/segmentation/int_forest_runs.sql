{#- One row per stored classifier run: its order, its target and whether it is the current one. -#}
with

results as (
    select * from {{ ref('shopseg', 'segment_forest') }}
    where record_type = 'run'
),

latest as (
    select max(run_seq) as run_seq from results
),

runs as (
    select
        run_id,
        max(run_seq) as run_seq,
        max(case when name = 'target' then text_value end) as classifier_target
    from results
    group by 1
),

final as (
    select
        runs.run_id,
        runs.run_seq,
        runs.classifier_target,
        runs.run_seq = latest.run_seq as is_current
    from runs
    cross join latest
)

select * from final
