"""Score every customer with the latest stored K-means model, beside their previous segment."""

import logging

from shopseg.kmeans import score_segments
from shopseg.params import model_from_params
from shopseg.segments import with_previous
from shopseg.spark import is_spark_frame, score_kmeans_spark, to_pandas, with_previous_spark

log = logging.getLogger("shopseg")


def model(dbt, session):
    dbt.config(materialized="table")
    fitted = model_from_params(to_pandas(dbt.ref("shopseg", "int_segment_model__latest")))
    features = dbt.ref("shopseg", "customer_features")
    columns = ["customer_id", *fitted.preprocessor.features]
    if is_spark_frame(features):  # Spark: every customer scored distributed (mapInPandas)
        this = str(dbt.this)
        previous = session.table(this) if session.catalog.tableExists(this) else None
        return with_previous_spark(score_kmeans_spark(features, fitted), previous)
    scored = score_segments(fitted, features.select(*columns).to_arrow_table().to_pandas())
    previous = None
    exists = session.execute(
        "select 1 from information_schema.tables "
        "where table_catalog = ? and table_schema = ? and table_name = ?",
        [dbt.this.database, dbt.this.schema, dbt.this.identifier],
    ).fetchall()
    if exists:
        previous = session.sql(f"select customer_id, segment_id, run_id from {dbt.this}").df()
    log.info("shopseg: scored %d customers with model %s", len(scored), fitted.run_id)
    return with_previous(scored, previous)
