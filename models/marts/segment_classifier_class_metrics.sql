{#- One row per class of each classifier run: holdout precision, recall, F1 and support. -#}
with

results as (
    select * from {{ ref('shopseg', 'segment_forest') }}
),

segment_names as (
    select * from {{ ref('shopseg', 'int_segment_names') }}
),

forest_runs as (
    select * from {{ ref('shopseg', 'int_forest_runs') }}
),

class_metrics as (
    select
        run_id,
        class_label,
        max(case when name = 'precision' then value end) as precision_score,
        max(case when name = 'recall' then value end) as recall_score,
        max(case when name = 'f1' then value end) as f1_score,
        max(case when name = 'holdout_support' then value end) as holdout_support,
        max(case when name = 'train_support' then value end) as train_support
    from results
    where record_type = 'class_metric'
    group by 1, 2
),

final as (
    select
        class_metrics.run_id,
        forest_runs.is_current,
        forest_runs.classifier_target,
        class_metrics.class_label,
        coalesce(segment_names.segment_name, class_metrics.class_label) as class_name,
        class_metrics.precision_score,
        class_metrics.recall_score,
        class_metrics.f1_score,
        cast(class_metrics.holdout_support as {{ dbt.type_int() }}) as holdout_support,
        cast(class_metrics.train_support as {{ dbt.type_int() }}) as train_support
    from class_metrics
    inner join forest_runs
        on class_metrics.run_id = forest_runs.run_id
    left join segment_names
        on
            forest_runs.classifier_target = 'segment_id'
            and class_metrics.class_label
            = cast(segment_names.segment_id as {{ dbt.type_string() }})
)

select * from final
