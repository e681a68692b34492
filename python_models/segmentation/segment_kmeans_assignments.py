"""Score every customer with this build's K-means model, beside their last promoted segment."""

import logging

from shopseg.kmeans import score_segments
from shopseg.package import log_to_dbt
from shopseg.params import model_from_params
from shopseg.segments import with_previous
from shopseg.spark import is_spark_frame, score_kmeans_spark, to_pandas, with_previous_spark

log = logging.getLogger("shopseg")


def model(dbt, session):
    dbt.config(materialized="table")
    log_to_dbt()  # the library's progress lines in dbt's log
    fitted = model_from_params(to_pandas(dbt.ref("shopseg", "int_segment_model__latest")))
    features = dbt.ref("shopseg", "customer_features")
    columns = ["customer_id", *fitted.preprocessor.inputs]
    # the last promoted build's segments: never those of a build that failed a gate
    previous = dbt.ref("shopseg", "int_segment_assignments__promoted")
    if is_spark_frame(features):  # Spark: every customer scored distributed (mapInPandas)
        return with_previous_spark(score_kmeans_spark(features, fitted), previous)
    scored = score_segments(fitted, features.select(*columns).to_arrow_table().to_pandas())
    previous = to_pandas(previous.select("customer_id", "segment_id", "run_id"))
    log.info("shopseg: scored %d customers with model %s", len(scored), fitted.run_id)
    return with_previous(scored, previous)
