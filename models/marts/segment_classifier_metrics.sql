{#-
    One row per segment classifier run: how well the random forest predicts the target on
    the holdout (accuracy, macro-F1, out-of-bag score), how faithful the rule tree is to the
    K-means segments, and what the run was fitted on.
-#}
with

results as (
    select * from {{ ref('shopseg', 'segment_forest') }}
    where record_type = 'run'
),

forest_runs as (
    select * from {{ ref('shopseg', 'int_forest_runs') }}
),

runs as (
    select
        run_id,
        max(case when name = 'kmeans_run_id' then text_value end) as kmeans_run_id,
        max(case when name = 'accuracy' then value end) as accuracy,
        max(case when name = 'macro_f1' then value end) as macro_f1,
        max(case when name = 'weighted_f1' then value end) as weighted_f1,
        max(case when name = 'oob_score' then value end) as oob_score,
        max(case when name = 'rule_fidelity' then value end) as rule_fidelity,
        max(case when name = 'rule_train_fidelity' then value end) as rule_train_fidelity,
        max(case when name = 'rule_count' then value end) as rule_count,
        max(case when name = 'rule_leaves' then value end) as rule_leaves,
        max(case when name = 'classes' then value end) as classes,
        max(case when name = 'customers' then value end) as customers,
        max(case when name = 'sample_customers' then value end) as sample_customers,
        max(case when name = 'train_customers' then value end) as train_customers,
        max(case when name = 'holdout_customers' then value end) as holdout_customers,
        max(case when name = 'importance_customers' then value end) as importance_customers,
        max(case when name = 'is_stratified' then value end) as is_stratified,
        max(case when name = 'features' then text_value end) as features_used,
        max(case when name = 'config' then text_value end) as config,
        max(case when name = 'versions' then text_value end) as library_versions
    from results
    group by 1
),

final as (
    select
        runs.run_id,
        forest_runs.run_seq,
        forest_runs.is_current,
        forest_runs.classifier_target,
        runs.kmeans_run_id,
        runs.accuracy,
        runs.macro_f1,
        runs.weighted_f1,
        runs.oob_score,
        runs.rule_fidelity,
        runs.rule_train_fidelity,
        cast(runs.rule_count as {{ dbt.type_int() }}) as rule_count,
        cast(runs.rule_leaves as {{ dbt.type_int() }}) as rule_leaves,
        cast(runs.classes as {{ dbt.type_int() }}) as classes,
        cast(runs.customers as {{ dbt.type_int() }}) as customers,
        cast(runs.sample_customers as {{ dbt.type_int() }}) as sample_customers,
        cast(runs.train_customers as {{ dbt.type_int() }}) as train_customers,
        cast(runs.holdout_customers as {{ dbt.type_int() }}) as holdout_customers,
        cast(runs.importance_customers as {{ dbt.type_int() }}) as importance_customers,
        runs.is_stratified = 1 as is_stratified,
        runs.features_used,
        runs.config,
        runs.library_versions
    from runs
    inner join forest_runs
        on runs.run_id = forest_runs.run_id
)

select * from final
