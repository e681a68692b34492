{#-
    One row per (actual class, predicted class) of each classifier run: holdout customers,
    and their share of the actual class (the diagonal is each class's recall).
-#}
with

results as (
    select * from {{ ref('shopseg', 'segment_forest') }}
),

forest_runs as (
    select * from {{ ref('shopseg', 'int_forest_runs') }}
),

cells as (
    select
        run_id,
        class_label as actual_class,
        predicted_label as predicted_class,
        cast(value as {{ dbt.type_int() }}) as customers
    from results
    where record_type = 'confusion'
),

with_totals as (
    select
        cells.*,
        cast(sum(cells.customers) over (
            partition by cells.run_id, cells.actual_class
        ) as {{ dbt.type_int() }}) as actual_customers
    from cells
),

final as (
    select
        with_totals.run_id,
        forest_runs.is_current,
        forest_runs.classifier_target,
        with_totals.actual_class,
        with_totals.predicted_class,
        with_totals.actual_class = with_totals.predicted_class as is_correct,
        with_totals.customers,
        with_totals.actual_customers,
        case
            when with_totals.actual_customers > 0
                then 1.0 * with_totals.customers / with_totals.actual_customers
        end as share_of_actual
    from with_totals
    inner join forest_runs
        on with_totals.run_id = forest_runs.run_id
)

select * from final
