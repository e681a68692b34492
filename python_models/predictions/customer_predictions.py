"""BG/NBD + Gamma-Gamma predictions over the horizon for every segmented customer."""

from shopseg.package import log_to_dbt
from shopseg.predict import PredictConfig, predict_customers
from shopseg.predict._io import relation_frame
from shopseg.spark import to_pandas

ORDER_COLUMNS = ("customer_id", "order_count", "first_order_at", "last_order_at", "monetary")


def model(dbt, session):
    dbt.config(materialized="table")
    log_to_dbt()  # the library's progress lines in dbt's log
    config = PredictConfig.from_mapping(dbt.config.get("shopseg"))
    as_of = to_pandas(dbt.ref("shopseg", "int_shop__as_of").select("as_of_at"))["as_of_at"][0]
    segmented = relation_frame(dbt.ref("shopseg", "customer_segments").select("customer_id"))
    orders = relation_frame(dbt.ref("shopseg", "int_customers_orders").select(*ORDER_COLUMNS))
    # a segmented customer without an order summary gets the no-orders status
    customers = segmented.merge(orders, on="customer_id", how="left")
    return predict_customers(customers, as_of, config)
