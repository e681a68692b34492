{#-
    One row per build: how the predictions of customer_predictions did on the last horizon
    before the as-of time. The same models and settings were fitted as of the as-of time
    minus the horizon and scored against what the customers then did (prediction_backtest);
    the quality gates on this table fail the build when a backtest that could run is
    below the floors.
-#}
with

backtest as (
    select * from {{ ref('shopseg', 'prediction_backtest') }}
),

predictions as (
    select * from {{ ref('shopseg', 'customer_predictions') }}
),

current_run as (
    select
        max(prediction_run_id) as prediction_run_id,
        count(case when prediction_status = 'ok' then 1 end) as predicted_customers
    from predictions
),

final as (
    select
        cast(current_run.prediction_run_id as {{ dbt.type_string() }}) as prediction_run_id,
        cast(backtest.run_id as {{ dbt.type_string() }}) as backtest_run_id,
        cast(backtest.status as {{ dbt.type_string() }}) as status,
        cast(backtest.as_of as {{ dbt.type_timestamp() }}) as as_of_at,
        cast(backtest.calibration_end as {{ dbt.type_timestamp() }}) as calibration_end_at,
        cast(backtest.horizon_days as integer) as horizon_days,
        cast(current_run.predicted_customers as {{ dbt.type_bigint() }}) as predicted_customers,
        cast(backtest.customers as {{ dbt.type_bigint() }}) as backtest_customers,
        cast(backtest.ordered_again_share as {{ shop_type_double() }}) as ordered_again_share,
        cast(backtest.auc as {{ shop_type_double() }}) as auc,
        cast(backtest.brier as {{ shop_type_double() }}) as brier,
        cast(backtest.predicted_orders as {{ shop_type_double() }}) as predicted_orders,
        cast(backtest.actual_orders as {{ dbt.type_bigint() }}) as actual_orders,
        cast(backtest.total_error as {{ shop_type_double() }}) as total_error,
        cast(backtest.fit_customers as {{ dbt.type_bigint() }}) as fit_customers,
        cast(backtest.fit_seconds as {{ shop_type_double() }}) as fit_seconds
    from backtest
    cross join current_run
)

select * from final
