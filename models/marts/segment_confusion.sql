{#-
    One row per (actual class, predicted class) of each classifier run: holdout customers,
    and their share of the actual class (the diagonal is each class's recall).
-#}
with

results as (
    select * from {{ ref('segment_forest') }}
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

cells as (
    select
        run_id,
        run_seq,
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
        with_totals.run_seq = latest.run_seq as is_current,
        targets.classifier_target,
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
    cross join latest
    inner join targets
        on with_totals.run_id = targets.run_id
)

select * from final
