"""Fit K-means on customer_features and append the model to the stored model history."""

import logging

import pandas as pd

from shopseg.config import SegmentConfig, parse_bool
from shopseg.kmeans import align_to_previous, fit_hash, fit_segments
from shopseg.package import check_package_version, log_to_dbt
from shopseg.params import empty_params, latest_model, model_to_params
from shopseg.spark import is_spark_frame, sample_to_pandas, to_pandas
from shopseg.stability import measured_alike, segment_stability, stability_params

log = logging.getLogger("shopseg")


def model(dbt, session):
    dbt.config(materialized="incremental")
    log_to_dbt()  # the library's progress lines in dbt's log
    check_package_version(dbt.config.get("package_version"))  # the first Python model
    settings = dbt.config.get("shopseg")
    config = SegmentConfig.from_mapping(settings)
    previous, seq = None, 0
    if dbt.is_incremental:
        previous, seq = latest_model(to_pandas(session.sql(f"select * from {dbt.this}")))
    if not parse_bool(settings["refit"], "shop_refit"):
        if previous is not None:
            log.info("shopseg: shop_refit is false: scoring with stored model %s", previous.run_id)
            return empty_params().assign(run_seq=[])
        log.warning(
            "shopseg: shop_refit is false but no model is stored yet: fitting the first one"
        )
    features = dbt.ref("shopseg", "customer_features")
    wanted = dict.fromkeys([*config.features, *config.categorical_features])
    columns = ["customer_id", *[c for c in wanted if c in features.columns]]
    if is_spark_frame(features):  # Spark: fit on a bounded sample collected to the driver
        frame = sample_to_pandas(
            features.select(*columns), config.fit_sample_size, config.random_state
        )
    else:
        frame = features.select(*columns).to_arrow_table().to_pandas()
    try:
        fitted = fit_segments(frame, config)
    except ValueError as exc:  # bad input: the message names table, column and problem
        raise ValueError(f"shopseg: {exc}") from None  # one line, not the library's stack
    if (
        previous is not None
        and fit_hash(previous) == fitted.run_id
        and measured_alike(previous.metrics, config)
    ):
        log.info("shopseg: same data and settings as run %s: model unchanged", fitted.run_id)
        return empty_params().assign(run_seq=[])
    if previous is not None:
        fitted = align_to_previous(fitted, previous, config.match_max_distance)
    stability = stability_params(fitted.run_id, segment_stability(frame, fitted, config), config)
    params = model_to_params(fitted, extra={"config": config.to_json()})
    return pd.concat([params, stability], ignore_index=True).assign(run_seq=seq + 1)
