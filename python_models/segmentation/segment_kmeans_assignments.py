"""Score every customer with the fitted K-means model: segment, distance, runner-up."""

from shopseg.kmeans import score_segments
from shopseg.params import model_from_params


def model(dbt, session):
    dbt.config(materialized="table")
    params = dbt.ref("segment_kmeans_fit").to_arrow_table().to_pandas()
    fitted = model_from_params(params)
    features = dbt.ref("customer_features")
    columns = ["customer_id", *[c for c in fitted.preprocessor.features]]
    frame = features.select(*columns).to_arrow_table().to_pandas()
    return score_segments(fitted, frame)
