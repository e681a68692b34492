"""The segment classifier library: forest, rules and scoring on data with known answers."""

from __future__ import annotations

import base64
import copy
import dataclasses
import io
import json
import pickle
import re
import zipfile
import zlib
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
import skops.io as sio
from sklearn.ensemble import RandomForestClassifier

from shopseg.config import ConfigError
from shopseg.forest import (
    SCORE_COLUMNS,
    ForestConfig,
    fit_forest,
    forest_results,
    forest_sample,
    frame_from_arrow,
    score_customers,
    scoring_fit,
    store,
    training_frame,
)
from shopseg.preprocess import numeric_matrix
from shopseg.rules import Bound, FeatureData, describe_bound, impute, nice_number

FEATURES = ("orders", "spend", "visits", "noise_a", "noise_b")
CONFIG = ForestConfig(n_estimators=30, importance_repeats=3)


def shop(n: int = 3000, seed: int = 0) -> pd.DataFrame:
    """Customers in four segments set by whole-number orders, money spend and (nullable) visits.

    noise_a and noise_b carry no signal; visits is null for a fifth of the customers.
    """
    rng = np.random.default_rng(seed)
    orders = rng.integers(0, 12, n)
    spend = np.round(rng.gamma(2.0, 150.0, n), 2)
    visits = rng.integers(0, 40, n).astype(float)
    visits[rng.random(n) < 0.2] = np.nan
    segment = np.where(
        orders >= 6,
        np.where(spend > 300, 1, 2),
        np.where(np.nan_to_num(visits, nan=100) <= 20, 3, 4),
    )
    return pd.DataFrame(
        {
            "customer_id": [f"c{i:05d}" for i in range(n)],
            "orders": orders,
            "spend": spend,
            "visits": visits,
            "noise_a": rng.normal(size=n),
            "noise_b": rng.integers(0, 3, n),
            "lifecycle_stage": np.where(orders == 0, "prospect", "active"),
            "segment_id": segment,
        }
    )


def results_of(frame: pd.DataFrame, config: ForestConfig = CONFIG, ids=(1, 2, 3, 4)):
    """Fit and evaluate; returns the fit and its results frame."""
    fit = fit_forest(frame, FEATURES, config, kmeans_run_id="km1")
    return fit, forest_results(fit, ids)


def stored_rows(results: pd.DataFrame, run_seq: int = 1) -> pd.DataFrame:
    """A run's results as segment_forest_scores reads them back from segment_forest."""
    rows = results[results["record_type"].isin(["run", "model"])].assign(run_seq=run_seq)
    return rows[["run_id", "run_seq", "record_type", "name", "text_value"]]


def counting_refits(monkeypatch: pytest.MonkeyPatch) -> list:
    """Record every refit that scoring_fit makes (the fit itself still runs)."""
    calls: list = []
    real = store.fit_sample

    def fit_sample(sample):
        calls.append(sample.run_id)
        return real(sample)

    monkeypatch.setattr(store, "fit_sample", fit_sample)
    return calls


def run_metric(results: pd.DataFrame, name: str) -> float:
    """One run-level metric of a results frame."""
    rows = results[(results["record_type"] == "run") & (results["name"] == name)]
    return float(rows["value"].iloc[0])


def rules_table(results: pd.DataFrame) -> pd.DataFrame:
    """The rule records pivoted to one row per rule."""
    part = results[results["record_type"] == "rule"]
    is_text = part["name"].isin(["rule_kind", "rule_text"])
    numbers = part[~is_text].pivot(index="item_id", columns="name", values="value")
    texts = part[is_text].pivot(index="item_id", columns="name", values="text_value")
    segment = part.groupby("item_id")["class_label"].first().astype(int).rename("segment_id")
    return numbers.join(texts).join(segment).reset_index()


def as_sql(rule_text: str) -> str:
    """A rule's text as a SQL predicate (`a < x <= b` becomes `(x > a and x <= b)`)."""
    if rule_text == "all customers":
        return "true"

    def between(match: re.Match) -> str:
        low, op, name, high = match.groups()
        return f"({name} {'>' if op == '<' else '>='} {low} and {name} <= {high})"

    return re.sub(r"(-?[\d.]+) (<=?) (\w+) <= (-?[\d.]+)", between, rule_text)


def test_forest_learns_the_segments_and_finds_the_signal() -> None:
    fit, results = results_of(shop())
    assert run_metric(results, "macro_f1") >= 0.95
    assert run_metric(results, "oob_score") >= 0.95
    assert run_metric(results, "rule_fidelity") >= 0.95
    imp = results[
        (results["record_type"] == "importance") & (results["name"] == "permutation_mean")
    ]
    ranked = list(imp.sort_values("value", ascending=False)["feature"])
    assert set(ranked[:3]) == {"orders", "spend", "visits"}
    assert run_metric(results, "holdout_customers") == 750
    assert run_metric(results, "is_stratified") == 1.0


def test_holdout_is_stratified_and_disjoint_from_training() -> None:
    frame = shop()
    fit, _ = results_of(frame)
    holdout = set(fit.split[fit.split == "holdout"].index)
    assert len(holdout) == 750 and len(set(fit.split.index)) == 3000
    shares = frame.set_index("customer_id")["segment_id"]
    held = shares.loc[sorted(holdout)].value_counts(normalize=True).sort_index()
    overall = shares.value_counts(normalize=True).sort_index()
    assert np.allclose(held, overall, atol=0.01)


def test_rules_are_exact_in_original_units_and_cover_every_segment() -> None:
    frame = shop()
    fit, results = results_of(frame)
    rules = rules_table(results)
    assert set(rules["segment_id"]) == {1, 2, 3, 4}
    train = frame[frame["customer_id"].isin(fit.split[fit.split == "train"].index)]
    con = duckdb.connect()
    con.register("train", train)
    for rule in rules.to_dict("records"):
        text = rule["rule_text"]
        assert not re.search(r"\d\.\d{3,}", text), text  # thresholds are rounded
        assert not re.search(r"orders [<>=]+ \d+\.", text), text  # whole numbers for orders
        covered, in_segment = con.execute(
            f"select count(*), count(*) filter (where segment_id = {rule['segment_id']}) "
            f"from train where {as_sql(text)}"
        ).fetchone()
        assert covered == rule["support"], text
        assert in_segment / covered == pytest.approx(rule["precision"]), text


def test_rule_conditions_read_like_a_marketer_writes_them() -> None:
    counts = FeatureData("order_count", np.arange(0.0, 20.0), True, None)
    assert describe_bound(counts, Bound(upper=6.5)) == "order_count <= 6"
    assert describe_bound(counts, Bound(lower=6.5)) == "order_count >= 7"
    assert describe_bound(counts, Bound(2.5, 6.5)) == "3 <= order_count <= 6"
    assert describe_bound(counts, Bound(2.5, 3.5)) == "order_count = 3"
    assert describe_bound(counts, Bound(upper=0.5)) == "order_count = 0"
    money = FeatureData("monetary", np.array([10.0, 291.37, 292.1, 999.0]), False, 150.0)
    assert describe_bound(money, Bound(upper=291.735)) == "(monetary <= 292 or monetary is null)"
    assert describe_bound(money, Bound(lower=291.735)) == "monetary > 292"
    assert describe_bound(money, Bound(upper=291.735), has_nulls=False) == "monetary <= 292"
    recency = FeatureData("recency_days", np.array([1.0, 2.0, 7.0]), True, 4.5)
    assert describe_bound(recency, Bound(4.0, 5.0)) == "recency_days is null"
    assert describe_bound(recency, Bound(lower=4.75)) == "recency_days >= 7"


@pytest.mark.parametrize(
    ("low", "high", "include_low", "expected"),
    [
        (291.37, 292.10, True, 292.0),
        (0.333, 0.5, True, 0.4),
        (1000.0, 3000.0, True, 1000.0),
        (45500.0, 46000.0, False, 46000.0),
        (-3.2, -1.0, True, -3.0),
        (0.0, 0.25, True, 0.0),
    ],
)
def test_nice_number_is_the_roundest_in_the_gap(low, high, include_low, expected) -> None:
    assert nice_number(low, high, include_low) == pytest.approx(expected)


def test_a_segment_no_leaf_predicts_gets_a_one_vs_rest_rule() -> None:
    frame = shop()
    small = frame["orders"].ge(10) & frame["spend"].gt(700)
    frame.loc[small, "segment_id"] = 5  # a small segment (about 1%) of big frequent spenders
    config = ForestConfig(
        n_estimators=30, importance_repeats=3, rules_max_depth=2, rules_min_leaf_share=0.0
    )
    _, results = results_of(frame, config, ids=(1, 2, 3, 4, 5, 6))
    rules = rules_table(results)
    assert set(rules.loc[rules["rule_kind"] == "majority", "segment_id"]) == {1, 2, 3, 4}
    five = rules[rules["segment_id"] == 5].iloc[0]
    assert five["rule_kind"] == "one_vs_rest"
    assert "orders >= 10" in five["rule_text"] and "spend > 7" in five["rule_text"]
    assert five["precision"] >= 0.9
    six = rules[rules["segment_id"] == 6].iloc[0]  # in the model but without customers
    assert six["rule_kind"] == "no_customers" and six["support"] == 0


def test_same_input_gives_identical_results_in_any_row_order() -> None:
    frame = shop()
    fit_a, a = results_of(frame)
    fit_b, b = results_of(frame.sample(frac=1.0, random_state=4))
    assert fit_a.run_id == fit_b.run_id
    versions = a["name"] == "versions"
    pd.testing.assert_frame_equal(a[~versions], b[~versions])
    pd.testing.assert_frame_equal(score_customers(fit_a, frame), score_customers(fit_b, frame))


def test_other_data_or_settings_give_another_run_id() -> None:
    frame = shop()
    base = fit_forest(frame, FEATURES, CONFIG, "km1").run_id
    assert fit_forest(frame, FEATURES, CONFIG, "km2").run_id != base
    assert fit_forest(frame.iloc[1:], FEATURES, CONFIG, "km1").run_id != base
    more_trees = ForestConfig(n_estimators=31, importance_repeats=3)
    assert fit_forest(frame, FEATURES, more_trees, "km1").run_id != base


def test_unlearnable_segments_give_a_low_macro_f1() -> None:
    frame = shop()
    frame["segment_id"] = np.random.default_rng(1).integers(1, 5, len(frame))
    _, results = results_of(frame)
    assert run_metric(results, "macro_f1") < 0.5  # the default gate (0.80) fails the build


def test_scoring_in_chunks_equals_scoring_at_once() -> None:
    frame = shop()
    fit, _ = results_of(frame)
    whole = score_customers(fit, frame)
    chunked = score_customers(fit, frame.sample(frac=1.0, random_state=2), chunk_size=700)
    pd.testing.assert_frame_equal(whole, chunked)
    assert list(whole.columns) == SCORE_COLUMNS
    assert whole["predicted_segment_id"].notna().all()
    assert whole["predicted_probability"].between(0, 1).all()
    agree = whole["predicted_segment_id"].astype(int) == frame["segment_id"].to_numpy()
    assert (~whole["is_misclassified"] == agree).all()
    assert set(whole["sample_split"]) == {"train", "holdout"}


def test_probabilities_are_the_forests_own_to_the_last_bit() -> None:
    frame = shop()
    fit, _ = results_of(frame)
    scored = score_customers(fit, frame, chunk_size=700)
    # the forest on float64 input, trees summed in order on one thread
    x = impute(numeric_matrix(frame, FEATURES), fit.medians)
    single = copy.copy(fit.forest)
    single.n_jobs = 1
    proba = np.round(single.predict_proba(x), 9)
    expected = proba.max(axis=1)
    assert scored["predicted_probability"].to_numpy().tobytes() == expected.tobytes()
    predicted = fit.forest.classes_[np.argmax(proba, axis=1)]
    assert (scored["predicted_segment_id"].to_numpy() == predicted).all()
    assert score_customers(fit, frame).equals(scored)


def test_scores_come_from_the_stored_forest_without_a_refit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    frame = shop()
    fit, results = results_of(frame)
    assert (results["record_type"] == "model").sum() == 1
    refits = counting_refits(monkeypatch)
    sample = forest_sample(frame, FEATURES, CONFIG, "km1")
    assert sample.run_id == fit.run_id
    stored = scoring_fit(sample, stored_rows(results))
    assert refits == []
    pd.testing.assert_frame_equal(score_customers(stored, frame), score_customers(fit, frame))


def test_a_forest_stored_by_other_versions_is_refitted_to_the_same_scores(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    frame = shop()
    fit, results = results_of(frame)
    rows = stored_rows(results)
    is_versions = rows["name"] == "versions"
    older = rows.assign(text_value=rows["text_value"].mask(is_versions, '{"scikit-learn": "1.0"}'))
    unstored = rows[rows["record_type"] != "model"]  # a run stored before forests were
    refits = counting_refits(monkeypatch)
    sample = forest_sample(frame, FEATURES, CONFIG, "km1")
    for stale in (older, unstored):
        refit = scoring_fit(sample, stale)
        pd.testing.assert_frame_equal(score_customers(refit, frame), score_customers(fit, frame))
    assert refits == [fit.run_id, fit.run_id]


def test_scoring_fails_unless_segment_forest_holds_the_run_last() -> None:
    frame = shop()
    _, results = results_of(frame)
    _, other = results_of(frame.iloc[1:])
    sample = forest_sample(frame, FEATURES, CONFIG, "km1")
    with pytest.raises(RuntimeError, match="segment_forest holds run"):
        scoring_fit(forest_sample(frame.iloc[1:], FEATURES, CONFIG, "km1"), stored_rows(results))
    with pytest.raises(RuntimeError, match="segment_forest holds run"):
        scoring_fit(sample, pd.concat([stored_rows(results, 1), stored_rows(other, 2)]))
    with pytest.raises(RuntimeError, match="segment_forest holds run None"):
        scoring_fit(sample, stored_rows(results).iloc[:0])
    # the same run stored again after the other one is the latest again
    again = pd.concat([stored_rows(other, 2), stored_rows(results, 3)])
    assert scoring_fit(sample, again).run_id == sample.run_id


# --- the stored forest: a skops file of trusted types, never code from the warehouse ----


class OpensMarker:
    """Unpickling one calls open(path, "w"): the file appears if the pickle is ever loaded."""

    def __init__(self, path: Path) -> None:
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


def stored_file(results: pd.DataFrame) -> bytes:
    """The skops file inside a results frame's stored forest."""
    text = results.loc[results["record_type"] == "model", "text_value"].iloc[0]
    return zlib.decompress(base64.b64decode(text))


def as_payload(data: bytes) -> str:
    """Bytes stored the way segment_forest stores a forest: zlib-compressed, base64."""
    return base64.b64encode(zlib.compress(data)).decode("ascii")


def with_payload(results: pd.DataFrame, text: str) -> pd.DataFrame:
    """A run's stored rows with its forest replaced by `text`."""
    rows = stored_rows(results)
    return rows.assign(text_value=rows["text_value"].mask(rows["record_type"] == "model", text))


def with_marker_gadget(data: bytes, marker: Path) -> bytes:
    """A skops file of a forest that also builds open(marker, "w"): the file appears if a
    loader trusts builtins.open (as trusted=get_untrusted_types(...) would)."""
    with zipfile.ZipFile(io.BytesIO(data)) as source:
        files = {name: source.read(name) for name in source.namelist()}
    schema = json.loads(files["schema.json"])

    def text(value: str, node_id: int) -> dict:
        return {
            "__class__": "str",
            "__module__": "builtins",
            "__loader__": "JsonNode",
            "content": json.dumps(value),
            "is_json": True,
            "__id__": node_id,
        }

    # ids above any stored id (the stored ones are numbered 1, 2, ...), so skops memoizes
    # none of them away
    gadget = {
        "__class__": "open",
        "__module__": "builtins",
        "__loader__": "ConstructorFromReduceNode",
        "content": {
            "__class__": "tuple",
            "__module__": "builtins",
            "__loader__": "TupleNode",
            "content": [text(str(marker), 10**9 + 1), text("w", 10**9 + 2)],
            "__id__": 10**9 + 3,
        },
        "__id__": 10**9 + 4,
    }
    forest_attributes = schema["content"][0]["content"]  # a DictNode: keys, their types
    forest_attributes["content"]["shopseg_marker"] = gadget
    key_types = forest_attributes["key_types"]["content"]
    key_types.append(key_types[-1])  # str, like every attribute name
    files["schema.json"] = json.dumps(schema).encode()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for name, content in files.items():
            target.writestr(name, content)
    return out.getvalue()


def refusal(run_id: str, problem: str) -> str:
    """The one line scoring_fit raises for a stored forest it will not load (a regex)."""
    return (
        rf"shopseg: segment_forest: the stored forest of run {run_id} {problem}; "
        r"rebuild it with dbt build --full-refresh --select segment_forest"
    )


def one_thread_proba(model, x: np.ndarray) -> np.ndarray:
    """predict_proba with the trees summed in order on one thread (so bit for bit stable)."""
    single = copy.copy(model)
    if hasattr(single, "n_jobs"):
        single.n_jobs = 1
    return single.predict_proba(x)


@pytest.mark.parametrize("target", ["segment_id", "lifecycle_stage"])
def test_the_stored_forest_predicts_exactly_as_the_fitted_one(
    target: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    frame = shop()
    config = dataclasses.replace(CONFIG, target=target)
    fit, results = results_of(frame, config)
    data = stored_file(results)
    # what skops does not trust by default is exactly the fixed list, for either target
    assert sio.get_untrusted_types(data=data) == store.TRUSTED_TYPES
    refits = counting_refits(monkeypatch)
    stored = scoring_fit(forest_sample(frame, FEATURES, config, "km1"), stored_rows(results))
    assert refits == []
    x = impute(numeric_matrix(frame, FEATURES), fit.medians)
    expected = one_thread_proba(fit.forest, x)
    assert one_thread_proba(stored.forest, x).tobytes() == expected.tobytes()
    # the same bits as the pickled forest that the skops file replaced
    pickled = pickle.loads(pickle.dumps(fit.forest))
    assert one_thread_proba(pickled, x).tobytes() == expected.tobytes()
    assert one_thread_proba(stored.tree, x).tobytes() == one_thread_proba(fit.tree, x).tobytes()
    assert (stored.forest.classes_ == fit.forest.classes_).all()


def test_a_stored_forest_naming_an_untrusted_type_is_refused_and_runs_nothing(
    tmp_path: Path,
) -> None:
    frame = shop()
    fit, results = results_of(frame)
    marker = tmp_path / "marker"
    crafted = with_marker_gadget(stored_file(results), marker)
    sample = forest_sample(frame, FEATURES, CONFIG, "km1")
    with pytest.raises(ValueError) as refused:
        scoring_fit(sample, with_payload(results, as_payload(crafted)))
    untrusted = r"holds types shopseg does not trust \(builtins\.open\)"
    assert re.fullmatch(refusal(fit.run_id, untrusted), str(refused.value))
    assert not marker.exists()
    # the gadget is real: a loader that trusts whatever the file names runs it
    sio.loads(crafted, trusted=sio.get_untrusted_types(data=crafted))
    assert marker.exists()


def test_a_pickle_stored_by_an_older_version_is_refused_unread(tmp_path: Path) -> None:
    frame = shop(300)
    fit, results = results_of(frame)
    marker = tmp_path / "marker"
    crafted = pickle.dumps(OpensMarker(marker), protocol=pickle.HIGHEST_PROTOCOL)
    sample = forest_sample(frame, FEATURES, CONFIG, "km1")
    with pytest.raises(ValueError) as refused:
        scoring_fit(sample, with_payload(results, as_payload(crafted)))
    older = "is a pickle, as older shopseg versions stored it, and is not loaded"
    assert re.fullmatch(refusal(fit.run_id, older), str(refused.value))
    assert not marker.exists()
    pickle.loads(crafted)  # what the pickle-based loader did with it
    assert marker.exists()


def unsound_tree(field: str, value: int) -> Callable[[RandomForestClassifier, Any], bytes]:
    """A forest whose first tree has one node field of its root set to `value`."""

    def make(forest: RandomForestClassifier, tree: Any) -> bytes:
        nodes = forest.estimators_[0].tree_
        state = nodes.__getstate__()
        state["nodes"] = state["nodes"].copy()
        state["nodes"][field][0] = value
        nodes.__setstate__(state)  # scikit-learn takes it: it checks no index
        return sio.dumps((forest, tree))

    return make


def zip_without_schema(forest: RandomForestClassifier, tree: Any) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        target.writestr("model.npy", b"\x93NUMPY")
    return out.getvalue()


MALFORMED = {
    "not base64": ("not base64 text!", "is not zlib-compressed base64 text"),
    "not zlib": (base64.b64encode(b"plain").decode(), "is not zlib-compressed base64 text"),
    "not a zip": (b"plain text", "is not a skops file"),
    "zip, not skops": (zip_without_schema, r"is not a valid skops file \(KeyError\)"),
    "rule tree first": (
        lambda forest, tree: sio.dumps((tree, forest)),
        "is not a random forest and a rule tree",
    ),
    "child past the last node": (
        unsound_tree("left_child", 10**9),
        "holds a tree that is not a sound fitted tree on 5 features",
    ),
    "child before its parent": (
        unsound_tree("right_child", 0),
        "holds a tree that is not a sound fitted tree on 5 features",
    ),
    "feature past the last one": (
        unsound_tree("feature", 5),
        "holds a tree that is not a sound fitted tree on 5 features",
    ),
}


@pytest.mark.parametrize("case", MALFORMED)
def test_a_stored_forest_that_is_not_sound_is_refused_in_one_line(case: str) -> None:
    frame = shop(300)
    fit, results = results_of(frame)
    stored, problem = MALFORMED[case]
    if callable(stored):
        genuine = sio.loads(stored_file(results), trusted=store.TRUSTED_TYPES)
        stored = stored(*genuine)
    text = stored if isinstance(stored, str) else as_payload(stored)
    sample = forest_sample(frame, FEATURES, CONFIG, "km1")
    with pytest.raises(ValueError) as refused:
        scoring_fit(sample, with_payload(results, text))
    assert re.fullmatch(refusal(fit.run_id, problem), str(refused.value))


def test_decimals_from_arrow_become_the_nearest_doubles() -> None:
    cents = np.random.default_rng(3).integers(-(10**15), 10**15, 20_000)
    values = [Decimal(int(c)).scaleb(-2) for c in cents]
    values += [Decimal("1.01"), Decimal("-0.01"), Decimal("0.00"), None]
    table = pa.table(
        {
            "customer_id": [f"c{i}" for i in range(len(values))],
            "monetary": pa.array(values, type=pa.decimal128(38, 2)),
        }
    )
    frame = frame_from_arrow(table)
    assert frame["monetary"].dtype == np.float64
    expected = np.array([np.nan if v is None else float(v) for v in values])
    assert frame["monetary"].to_numpy().tobytes() == expected.tobytes()
    assert list(frame["customer_id"]) == list(table["customer_id"].to_pylist())


def test_sample_bounds_training_and_the_rest_is_scored() -> None:
    frame = shop()
    config = ForestConfig(n_estimators=20, importance_repeats=2, sample_size=1000)
    fit, results = results_of(frame, config)
    assert run_metric(results, "sample_customers") == 1000
    assert run_metric(results, "customers") == 3000
    scored = score_customers(fit, frame)
    assert scored["sample_split"].value_counts()["not_sampled"] == 2000


def test_lifecycle_target_predicts_stages_not_segments() -> None:
    frame = shop()
    config = ForestConfig(target="lifecycle_stage", n_estimators=20, importance_repeats=2)
    fit, results = results_of(frame, config)
    labels = set(results.loc[results["record_type"] == "class_metric", "class_label"])
    assert labels == {"active", "prospect"}
    assert run_metric(results, "macro_f1") == 1.0  # prospect means orders = 0
    assert set(rules_table(results)["segment_id"]) == {1, 2, 3, 4}  # rules stay on segments
    frame.loc[frame.index[:10], "lifecycle_stage"] = None  # no actual stage to compare
    scored = score_customers(fit, frame)
    assert scored["predicted_segment_id"].isna().all()
    assert set(scored["predicted_class"]) == {"active", "prospect"}
    unknown = scored["actual_class"].isna()
    assert unknown.sum() == 10 and scored.loc[unknown, "is_misclassified"].isna().all()
    known = scored[~unknown]
    assert (known["is_misclassified"] == (known["actual_class"] != known["predicted_class"])).all()


def test_degenerate_inputs_still_give_results() -> None:
    one_segment = shop(200).assign(segment_id=1)
    fit, results = results_of(one_segment, ids=(1,))
    assert run_metric(results, "macro_f1") == 1.0
    assert list(rules_table(results)["rule_text"]) == ["all customers"]
    no_features = fit_forest(one_segment, (), CONFIG, "km1")
    assert forest_results(no_features, (1,))["name"].eq("rule_text").any()
    assert score_customers(no_features, one_segment)["predicted_segment_id"].eq(1).all()
    single = shop(1)
    fit, results = results_of(single, ids=(int(single["segment_id"].iloc[0]),))
    assert run_metric(results, "holdout_customers") == 0
    assert np.isnan(run_metric(results, "macro_f1"))
    assert len(score_customers(fit, single)) == 1
    tiny = shop(7)  # classes too small to stratify
    _, results = results_of(tiny)
    assert run_metric(results, "is_stratified") == 0.0


def test_training_frame_joins_segments_and_rejects_duplicates() -> None:
    frame = shop(50)
    features = frame.drop(columns=["segment_id"]).iloc[::-1]
    joined = training_frame(features, frame[["customer_id", "segment_id"]])
    assert list(joined["customer_id"]) == sorted(frame["customer_id"])
    with pytest.raises(ValueError, match="customer_features.customer_id: 1 duplicated ids"):
        training_frame(pd.concat([features, features.iloc[:1]]), frame)


def test_config_reads_dbt_rendered_vars_and_names_the_bad_one() -> None:
    config = ForestConfig.from_mapping(
        {"target": "lifecycle_stage", "sample_size": "5000", "holdout_share": "0.2"}
    )
    assert (config.target, config.sample_size, config.holdout_share) == (
        "lifecycle_stage",
        5000,
        0.2,
    )
    with pytest.raises(ConfigError, match="shop_classifier_target"):
        ForestConfig.from_mapping({"target": "rfm_segment"})
    with pytest.raises(ConfigError, match="shop_rules_max_depth"):
        ForestConfig.from_mapping({"rules_max_depth": "0"})
    with pytest.raises(ConfigError, match="shop_classifier_holdout_share"):
        ForestConfig.from_mapping({"holdout_share": "1.5"})


def test_the_stored_forest_has_the_same_bytes_in_every_dump() -> None:
    """skops names arrays by id() and stamps zip times: the stored text is made canonical."""
    frame = shop(300)
    first, _ = results_of(frame)
    second, _ = results_of(frame)
    assert store.forest_payload(first) == store.forest_payload(second)
