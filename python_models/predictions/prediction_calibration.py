"""The backtest's calibration: predicted vs observed "ordered again" per decile."""

from shopseg.package import log_to_dbt
from shopseg.predict import BACKTEST_COLUMNS, PredictConfig, backtest_calibration
from shopseg.predict._io import relation_frame
from shopseg.spark import to_pandas


def model(dbt, session):
    dbt.config(materialized="table")
    log_to_dbt()  # the library's progress lines in dbt's log
    config = PredictConfig.from_mapping(dbt.config.get("shopseg"))
    as_of = to_pandas(dbt.ref("shopseg", "int_shop__as_of").select("as_of_at"))["as_of_at"][0]
    customers = relation_frame(
        dbt.ref("shopseg", "int_customers_orders__backtest").select(*BACKTEST_COLUMNS)
    )
    return backtest_calibration(customers, as_of, config.horizon_days, config)
