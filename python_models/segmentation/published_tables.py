"""Publish the marts to the BI file once every upstream model and gate has passed."""

from shopseg.package import log_to_dbt
from shopseg.publish import publish


def model(dbt, session):
    dbt.config(materialized="table")
    log_to_dbt()  # the library's progress lines in dbt's log
    target = dbt.config.get("publish_path")
    input_path = dbt.config.get("input_path")
    # the file this session builds into: the publish target must never be it
    warehouse = session.execute(
        "select path from duckdb_databases() where database_name = current_database()"
    ).fetchall()[0][0]  # fetchall: an unfinished result would block the refs below
    runs = dbt.ref("shopseg", "prediction_runs")
    relations = {
        "customer_features": dbt.ref("shopseg", "customer_features"),
        "customer_segments": dbt.ref("shopseg", "customer_segments"),
        "segment_profiles": dbt.ref("shopseg", "segment_profiles"),
        "segment_feature_profiles": dbt.ref("shopseg", "segment_feature_profiles"),
        "segmentation_runs": dbt.ref("shopseg", "segmentation_runs"),
        "segment_k_selection": dbt.ref("shopseg", "segment_k_selection"),
        "segment_migration": dbt.ref("shopseg", "segment_migration"),
        "segment_model_versions": dbt.ref("shopseg", "segment_model_versions"),
        "segment_centroids": dbt.ref("shopseg", "segment_centroids"),
        "data_quality_issues": dbt.ref("shopseg", "data_quality_issues"),
        "segment_classifier_metrics": dbt.ref("shopseg", "segment_classifier_metrics"),
        "segment_classifier_class_metrics": dbt.ref("shopseg", "segment_classifier_class_metrics"),
        "segment_confusion": dbt.ref("shopseg", "segment_confusion"),
        "segment_feature_importance": dbt.ref("shopseg", "segment_feature_importance"),
        "segment_rules": dbt.ref("shopseg", "segment_rules"),
        "segment_dendrogram": dbt.ref("shopseg", "segment_dendrogram"),
        "segment_category_affinity": dbt.ref("shopseg", "segment_category_affinity"),
        "segment_product_affinity": dbt.ref("shopseg", "segment_product_affinity"),
        "customer_recommendations": dbt.ref("shopseg", "customer_recommendations"),
        "recommendation_runs": dbt.ref("shopseg", "recommendation_runs"),
        "customer_predictions": dbt.ref("shopseg", "customer_predictions"),
        "prediction_calibration": dbt.ref("shopseg", "prediction_calibration"),
        # children of segment_model_promotions: publishing waits for the promotion
        "customer_segment_history": dbt.ref("shopseg", "customer_segment_history"),
        "segment_transitions": dbt.ref("shopseg", "segment_transitions"),
        # without the fit's timing, which differs from build to build (the bytes must not)
        "prediction_runs": runs.select(*(c for c in runs.columns if c != "fit_seconds")),
    }
    tables = ((name, rel.to_arrow_table) for name, rel in relations.items())
    try:
        counts = publish(tables, target, warehouse=warehouse, input_path=input_path)
    except ValueError as exc:  # a refused target: one line, not the library's stack
        raise ValueError(str(exc)) from None
    return counts
