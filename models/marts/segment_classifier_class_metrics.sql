{#- One row per class of each classifier run: holdout precision, recall, F1 and support. -#}
with

results as (
    select * from {{ ref('segment_forest') }}
),

segment_names as (
    select * from {{ ref('int_segment_names') }}
),

latest as (
    select max(run_seq) as run_seq from results
),

targets as (
    select
        run_id,
        max(text_value) as classifier_target
    from results
    where record_type = 'run' and name = 'target'
    group by 1
),

class_metrics as (
    select
        run_id,
        class_label,
        max(run_seq) as run_seq,
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
        class_metrics.run_seq = latest.run_seq as is_current,
        targets.classifier_target,
        class_metrics.class_label,
        coalesce(segment_names.segment_name, class_metrics.class_label) as class_name,
        class_metrics.precision_score,
        class_metrics.recall_score,
        class_metrics.f1_score,
        cast(class_metrics.holdout_support as {{ dbt.type_int() }}) as holdout_support,
        cast(class_metrics.train_support as {{ dbt.type_int() }}) as train_support
    from class_metrics
    cross join latest
    inner join targets
        on class_metrics.run_id = targets.run_id
    left join segment_names
        on
            targets.classifier_target = 'segment_id'
            and class_metrics.class_label
            = cast(segment_names.segment_id as {{ dbt.type_string() }})
)

select * from final
