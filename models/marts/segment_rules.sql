{#-
    One row per readable rule of each classifier run: the conditions (original units) that
    put customers in a K-means segment, from a shallow decision tree, with how many training
    customers the rule covers and how many of them are in the segment.
-#}
with

results as (
    select * from {{ ref('shopseg', 'segment_forest') }}
    where record_type = 'rule'
),

segment_names as (
    select * from {{ ref('shopseg', 'int_segment_names') }}
),

forest_runs as (
    select * from {{ ref('shopseg', 'int_forest_runs') }}
),

rules as (
    select
        run_id,
        item_id as rule_id,
        max(class_label) as segment_label,
        max(case when name = 'rule_kind' then text_value end) as rule_kind,
        max(case when name = 'rule_text' then text_value end) as rule_text,
        max(case when name = 'condition_count' then value end) as condition_count,
        max(case when name = 'support' then value end) as rule_support,
        max(case when name = 'precision' then value end) as rule_precision,
        max(case when name = 'holdout_support' then value end) as holdout_support,
        max(case when name = 'holdout_precision' then value end) as holdout_precision
    from results
    group by 1, 2
),

final as (
    select
        rules.run_id,
        forest_runs.is_current,
        cast(rules.rule_id as {{ dbt.type_int() }}) as rule_id,
        cast(rules.segment_label as {{ dbt.type_int() }}) as segment_id,
        segment_names.segment_name,
        rules.rule_kind,
        rules.rule_text,
        cast(rules.condition_count as {{ dbt.type_int() }}) as condition_count,
        cast(rules.rule_support as {{ dbt.type_int() }}) as rule_support,
        rules.rule_precision,
        cast(rules.holdout_support as {{ dbt.type_int() }}) as holdout_support,
        rules.holdout_precision
    from rules
    inner join forest_runs
        on rules.run_id = forest_runs.run_id
    left join segment_names
        on cast(rules.segment_label as {{ dbt.type_int() }}) = segment_names.segment_id
)

select * from final
