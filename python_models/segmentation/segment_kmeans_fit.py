"""Fit the K-means segmentation on customer_features; returns the model as parameter rows."""

import logging

from shopseg.config import SegmentConfig
from shopseg.kmeans import fit_segments
from shopseg.params import model_to_params


def model(dbt, session):
    dbt.config(materialized="table")
    logging.getLogger("shopseg").setLevel(logging.INFO)
    config = SegmentConfig.from_mapping(dbt.config.get("shopseg"))
    features = dbt.ref("customer_features")
    columns = ["customer_id", *[c for c in config.features if c in features.columns]]
    frame = features.select(*columns).to_arrow_table().to_pandas()
    fitted = fit_segments(frame, config)
    return model_to_params(fitted, extra={"config": config.to_json()})
