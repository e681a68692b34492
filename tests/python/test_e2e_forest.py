"""The segment classifier in real builds: quality on the demo shop, rules, scoring, gates."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
from conftest import DbtResult, failed_tests, run_dbt

pytestmark = pytest.mark.e2e

# What the planted personas of the demo shop differ in (shopseg.demo).
PERSONA_FEATURES = {
    "order_count",
    "recency_days",
    "monetary",
    "avg_order_value",
    "discounted_order_share",
    "tenure_days",
    "session_count",
    "product_view_count",
}
CURRENT_METRICS = "select * from segment_classifier_metrics where is_current"
CLASSIFIER_MARTS = [
    "segment_classifier_metrics",
    "segment_classifier_class_metrics",
    "segment_confusion",
    "segment_feature_importance",
    "segment_rules",
]


def current_metrics(result: DbtResult) -> pd.Series:
    """The current classifier run of a build."""
    runs = result.query(CURRENT_METRICS)
    assert len(runs) == 1
    return runs.iloc[0]


def snapshot(result: DbtResult) -> dict[str, pd.DataFrame]:
    """Every classifier mart and the customer predictions, in a fixed order."""
    names = [*CLASSIFIER_MARTS, "segment_forest_scores"]
    return {name: result.query(f"select * from {name} order by all") for name in names}


def test_forest_learns_the_demo_segments(demo_build: DbtResult) -> None:
    run = current_metrics(demo_build)
    k = demo_build.query("select k from segmentation_runs where is_current")["k"].iloc[0]
    print(
        f"\ndemo forest: macro-F1 {run['macro_f1']:.3f}, accuracy {run['accuracy']:.3f}, "
        f"OOB {run['oob_score']:.3f}, rule fidelity {run['rule_fidelity']:.3f} "
        f"({run['rule_count']} rules), {run['train_customers']} train / "
        f"{run['holdout_customers']} holdout customers"
    )
    assert run["classifier_target"] == "segment_id" and run["classes"] == k
    assert run["macro_f1"] >= 0.90
    assert run["oob_score"] >= 0.90
    assert run["rule_fidelity"] >= 0.70
    assert run["is_stratified"] and run["holdout_customers"] > 0


def test_top_features_are_what_the_personas_differ_in(demo_build: DbtResult) -> None:
    importance = demo_build.query(
        "select feature, permutation_importance_mean, permutation_importance_std"
        " from segment_feature_importance where is_current order by permutation_rank"
    )
    print(f"\npermutation importance:\n{importance.to_string(index=False)}")
    top3 = list(importance["feature"].head(3))
    assert len(set(top3) & PERSONA_FEATURES) >= 2, top3


def test_every_segment_has_a_readable_rule(demo_build: DbtResult) -> None:
    rules = demo_build.query(
        "select * from segment_rules where is_current order by segment_id, rule_id"
    )
    print(f"\n{rules[['segment_name', 'rule_kind', 'rule_text', 'rule_precision']].to_string()}")
    segments = set(
        demo_build.query("select distinct segment_id from customer_segments")["segment_id"]
    )
    described = rules[rules["rule_text"].notna() & (rules["rule_support"] > 0)]
    assert segments <= set(described["segment_id"])
    assert described["segment_name"].notna().all()
    text = " ".join(described["rule_text"])
    assert "order_count" in text
    # whole-number features keep whole bounds (avg_order_value > 81.5 is fine)
    whole = "order_count|session_count|product_view_count|recency_days|tenure_days"
    after = re.findall(rf"\b(?:{whole})\s*[<>]=?\s*(-?[\d.]+)", text)
    before = re.findall(rf"(-?[\d.]+)\s*<=?\s*(?:{whole})\b", text)
    assert after and all(float(x).is_integer() for x in after + before), after + before


def test_every_customer_is_scored_by_the_stored_forest(demo_build: DbtResult) -> None:
    scored = demo_build.query(
        "select scores.*, segments.segment_id, segments.is_forest_disagreement"
        " from segment_forest_scores as scores"
        " inner join customer_segments as segments using (customer_id)"
    )
    customers = demo_build.query("select count(*) as n from customer_segments")["n"].iloc[0]
    assert len(scored) == customers and scored["predicted_segment_id"].notna().all()
    assert scored["predicted_probability"].between(0, 1).all()
    disagree = scored["predicted_segment_id"] != scored["segment_id"]
    assert (scored["is_forest_disagreement"] == disagree).all()
    assert disagree.mean() < 0.05
    # the scoring model refits the forest: its holdout errors are the stored run's
    run = current_metrics(demo_build)
    holdout = scored[scored["sample_split"] == "holdout"]
    assert len(holdout) == run["holdout_customers"]
    assert 1 - holdout["is_misclassified"].mean() == pytest.approx(run["accuracy"])
    assert set(scored["run_id"]) == {run["run_id"]}


def test_confusion_and_class_metrics_agree(demo_build: DbtResult) -> None:
    confusion = demo_build.query("select * from segment_confusion where is_current")
    classes = demo_build.query("select * from segment_classifier_class_metrics where is_current")
    run = current_metrics(demo_build)
    assert confusion["customers"].sum() == run["holdout_customers"]
    diagonal = confusion[confusion["is_correct"]].set_index("actual_class")["share_of_actual"]
    recall = classes.set_index("class_label")["recall_score"]
    pd.testing.assert_series_equal(
        diagonal.sort_index(), recall.sort_index(), check_names=False, check_index_type=False
    )
    assert classes["class_name"].notna().all()


def test_runs_are_kept_and_the_target_can_be_lifecycle_stage(
    demo_build: DbtResult, demo_dir: Path, tmp_path: Path
) -> None:
    shutil.copy(demo_build.db_path, tmp_path / "shopseg.duckdb")
    # the forest models, their marts and the promotion that keeps their runs (customer_segments
    # and the profiles only join the scores; a build without the promotion keeps no run)
    select = ["build", "--select", "segment_forest+", "--exclude", "customer_segments"]
    select += ["segment_profiles", "segment_feature_profiles", "published_tables"]
    same = run_dbt(select, tmp_path, demo_dir)
    assert same.ok, same.output[-3000:]
    before, after = snapshot(demo_build), snapshot(same)
    for name, table in before.items():  # same input: no new run, identical tables
        pd.testing.assert_frame_equal(table, after[name], obj=name)

    stages = run_dbt(select, tmp_path, demo_dir, {"shop_classifier_target": "lifecycle_stage"})
    assert stages.ok, stages.output[-3000:]
    runs = stages.query("select * from segment_classifier_metrics order by run_seq")
    assert list(runs["classifier_target"]) == ["segment_id", "lifecycle_stage"]
    assert list(runs["is_current"]) == [False, True]
    labels = stages.query(
        "select class_label from segment_classifier_class_metrics where is_current"
    )
    assert {"prospect", "lapsed"} <= set(labels["class_label"])
    scores = stages.query("select * from segment_forest_scores")
    assert scores["predicted_segment_id"].isna().all()  # stages are no segments
    assert set(scores["predicted_class"]) <= set(labels["class_label"])

    back = run_dbt(select, tmp_path, demo_dir)
    assert back.ok, back.output[-3000:]
    runs = back.query("select run_id, run_seq, is_current from segment_classifier_metrics")
    first = current_metrics(demo_build)["run_id"]
    assert len(runs) == 2 and set(runs.loc[runs["is_current"], "run_id"]) == {first}
    assert runs["run_seq"].max() == 3  # the earlier run came back as the latest, not twice


@pytest.mark.parametrize(
    ("var", "test_prefix"),
    [
        ("shop_min_classifier_f1", "value_at_least_segment_classifier_metrics_macro_f1"),
        ("shop_min_rule_fidelity", "value_at_least_segment_classifier_metrics_rule_fidelity"),
    ],
)
def test_unreachable_classifier_floor_fails_the_build(
    demo_build: DbtResult, demo_dir: Path, tmp_path: Path, var: str, test_prefix: str
) -> None:
    shutil.copy(demo_build.db_path, tmp_path / "shopseg.duckdb")
    select = ["build", "--select", "segment_classifier_metrics"]
    result = run_dbt(select, tmp_path, demo_dir, {var: 1.01})
    assert not result.ok
    assert any(name.startswith(test_prefix) for name in failed_tests(result)), result.output[-3000:]
