{#-
    One row per feature of each classifier run: permutation importance on the holdout (mean
    and sd of the accuracy drop when the feature is shuffled) beside the forest's impurity
    importance, with ranks.
-#}
with

results as (
    select * from {{ ref('shopseg', 'segment_forest') }}
    where record_type = 'importance'
),

forest_runs as (
    select * from {{ ref('shopseg', 'int_forest_runs') }}
),

importances as (
    select
        run_id,
        feature,
        max(case when name = 'permutation_mean' then value end) as permutation_importance_mean,
        max(case when name = 'permutation_std' then value end) as permutation_importance_std,
        max(case when name = 'impurity' then value end) as impurity_importance,
        max(case when name = 'impute_median' then value end) as impute_median
    from results
    group by 1, 2
),

final as (
    select
        importances.run_id,
        forest_runs.is_current,
        importances.feature,
        importances.permutation_importance_mean,
        importances.permutation_importance_std,
        row_number() over (
            partition by importances.run_id
            order by importances.permutation_importance_mean desc, importances.feature asc
        ) as permutation_rank,
        importances.impurity_importance,
        row_number() over (
            partition by importances.run_id
            order by importances.impurity_importance desc, importances.feature asc
        ) as impurity_rank,
        importances.impute_median
    from importances
    inner join forest_runs
        on importances.run_id = forest_runs.run_id
)

select * from final
