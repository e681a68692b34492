"""Score every customer with the forest segment_forest stored for the current run, in chunks."""

from shopseg.forest import ForestConfig, forest_sample, score_customers, scoring_fit
from shopseg.package import log_to_dbt
from shopseg.params import model_from_params
from shopseg.spark import forest_frame, is_spark_frame, score_forest_spark, to_pandas


def model(dbt, session):
    dbt.config(materialized="table")
    log_to_dbt()  # the library's progress lines in dbt's log
    config = ForestConfig.from_mapping(dbt.config.get("shopseg"))
    kmeans = model_from_params(to_pandas(dbt.ref("shopseg", "int_segment_model__latest")))
    features = dbt.ref("shopseg", "customer_features").select(
        "customer_id", *kmeans.preprocessor.features, "lifecycle_stage"
    )
    segments = dbt.ref("shopseg", "segment_kmeans_assignments").select("customer_id", "segment_id")
    frame = forest_frame(features, segments, config)  # Spark: the sample; scoring distributed
    # The sample gives the run id (the build fails unless segment_forest holds it last) and
    # the train/holdout split; the forest is the one segment_forest stored for that run.
    sample = forest_sample(frame, kmeans.preprocessor.features, config, kmeans.run_id)
    stored = dbt.ref("shopseg", "segment_forest").filter("record_type in ('run', 'model')")
    stored = stored.select("run_id", "run_seq", "record_type", "name", "text_value")
    try:
        fit = scoring_fit(sample, to_pandas(stored))
    except ValueError as exc:  # a stored forest refused: one line, not the library's stack
        raise ValueError(str(exc)) from None
    if is_spark_frame(features):
        return score_forest_spark(features.join(segments, "customer_id"), fit)
    return score_customers(fit, frame)
