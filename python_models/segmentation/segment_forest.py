"""Fit a random forest and a rule tree on the K-means segments; store each new run."""

import logging

from shopseg.forest import ForestConfig, empty_results, fit_forest, forest_results
from shopseg.package import log_to_dbt
from shopseg.params import model_from_params
from shopseg.spark import forest_frame, to_pandas

log = logging.getLogger("shopseg")


def model(dbt, session):
    dbt.config(
        materialized="incremental",
        incremental_strategy="delete+insert",
        unique_key="run_id",
    )
    log_to_dbt()  # the library's progress lines in dbt's log
    config = ForestConfig.from_mapping(dbt.config.get("shopseg"))
    kmeans = model_from_params(to_pandas(dbt.ref("shopseg", "int_segment_model__latest")))
    features = dbt.ref("shopseg", "customer_features").select(
        "customer_id", *kmeans.preprocessor.features, "lifecycle_stage"
    )
    segments = dbt.ref("shopseg", "segment_kmeans_assignments").select("customer_id", "segment_id")
    frame = forest_frame(features, segments, config)  # Spark: a bounded sample at the driver
    fit = fit_forest(frame, kmeans.preprocessor.features, config, kmeans.run_id)
    seq = 0
    if dbt.is_incremental:
        sql = f"select distinct run_id, run_seq from {dbt.this} order by 2"
        stored = to_pandas(session.sql(sql))
        if len(stored) and stored["run_id"].iloc[-1] == fit.run_id:
            log.info("shopseg: same data and settings as forest run %s: unchanged", fit.run_id)
            return empty_results().assign(run_seq=[])
        seq = int(stored["run_seq"].max()) if len(stored) else 0
    return forest_results(fit, kmeans.segment_ids).assign(run_seq=seq + 1)
