"""Score every customer with the current segment forest, in chunks."""

from shopseg.forest import ForestConfig, fit_forest, score_customers, training_frame
from shopseg.params import model_from_params


def model(dbt, session):
    dbt.config(materialized="table")
    config = ForestConfig.from_mapping(dbt.config.get("shopseg"))
    kmeans = model_from_params(dbt.ref("int_segment_model__latest").df())
    features = dbt.ref("customer_features").select(
        "customer_id", *kmeans.preprocessor.features, "lifecycle_stage"
    )
    segments = dbt.ref("segment_kmeans_assignments").select("customer_id", "segment_id")
    frame = training_frame(
        features.to_arrow_table().to_pandas(), segments.to_arrow_table().to_pandas()
    )
    # The fit is deterministic: refitting gives the forest segment_forest stored and judged.
    fit = fit_forest(frame, kmeans.preprocessor.features, config, kmeans.run_id)
    stored = dbt.ref("segment_forest").filter("record_type = 'run'").select("run_id", "run_seq")
    latest = stored.order("run_seq desc").limit(1).fetchall()
    if not latest or latest[0][0] != fit.run_id:
        raise RuntimeError(
            f"segment_forest holds run {latest[0][0] if latest else None}, this build fits "
            f"{fit.run_id}: build segment_forest with the same vars first"
        )
    return score_customers(fit, frame)
