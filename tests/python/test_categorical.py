"""Categorical attributes in the segmentation (shop_segment_categorical_features)."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score
from test_kmeans import CONFIG, blobs

from shopseg.config import ConfigError, SegmentConfig
from shopseg.kmeans import align_to_previous, fit_segments, score_segments
from shopseg.params import model_from_params, model_to_params
from shopseg.preprocess import (
    NONE_LEVEL,
    OTHER_LEVEL,
    category_levels,
    fit_preprocessor,
)

LEVELS = np.array(["north", "south", "east"])


def planted(n: int = 1500, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """Customers whose three groups differ only in `region`: the numbers are pure noise."""
    rng = np.random.default_rng(seed)
    group = rng.integers(0, 3, n)
    frame = pd.DataFrame(
        {
            "customer_id": [f"c{i:05d}" for i in range(n)],
            "f1": rng.normal(size=n),
            "f2": rng.normal(size=n),
            "region": LEVELS[group],
            "spend": rng.lognormal(size=n),
        }
    )
    return frame, group


def config(**settings) -> SegmentConfig:
    return SegmentConfig(features=("f1", "f2"), k_min=2, k_max=5, n_init=2, **settings)


def test_groups_that_differ_only_in_an_attribute_are_found_with_it_and_not_without() -> None:
    frame, truth = planted()
    without = score_segments(fit_segments(frame, config()), frame)
    assert adjusted_rand_score(truth, without["segment_id"]) < 0.05
    on = config(categorical_features=("region",), categorical_weight=3.0)
    model = fit_segments(frame, on)
    assert model.k == 3
    scored = score_segments(model, frame)
    assert adjusted_rand_score(truth, scored["segment_id"]) > 0.95


def test_two_levels_are_the_weight_apart_and_the_columns_come_last() -> None:
    frame, _ = planted()
    pre = fit_preprocessor(frame, ("f1", "f2"), categorical=("region",), categorical_weight=0.7)
    assert pre.columns[:2] == ("f1", "f2")
    assert set(pre.columns[2:]) == {f"region={level}" for level in LEVELS}
    assert pre.inputs == ("f1", "f2", "region")
    x = pre.transform(frame)
    assert np.abs(x[:, 2:].mean(axis=0)).max() < 1e-12  # centred by each level's share
    pair = frame.iloc[:2].copy()
    pair[["f1", "f2"]] = 0.0
    pair["region"] = ["north", "south"]
    a, b = pre.transform(pair)
    assert np.linalg.norm(a - b) == pytest.approx(0.7)
    assert pre.to_original_units(x[:3]).shape == (3, 2)  # the numeric features only


def test_levels_beyond_the_most_frequent_share_other_and_null_is_its_own_level() -> None:
    values = pd.Series(["a"] * 5 + ["b"] * 4 + ["c"] * 3 + ["d", "e"] + [None, "", " "] * 2)
    assert category_levels(values, max_levels=3) == (NONE_LEVEL, "a", "b", OTHER_LEVEL)
    assert category_levels(values, max_levels=10) == (NONE_LEVEL, "a", "b", "c", "d", "e")
    frame = pd.DataFrame({"x": np.arange(len(values), dtype=float), "cat": values})
    pre = fit_preprocessor(frame, ("x",), categorical=("cat",), max_levels=3)
    assert pre.levels == ((NONE_LEVEL, "a", "b", OTHER_LEVEL),)
    new = pd.DataFrame({"x": [1.0, 1.0, 1.0], "cat": ["c", "never seen", pd.NA]})
    onehot = pre.transform(new)[:, 1:] * np.asarray(pre.scale[1:]) + np.asarray(pre.mean[1:])
    np.testing.assert_allclose(onehot, [[0, 0, 0, 1], [0, 0, 0, 1], [1, 0, 0, 0]], atol=1e-12)


def test_an_attribute_with_one_level_is_dropped() -> None:
    frame, _ = planted()
    frame["region"] = "north"
    pre = fit_preprocessor(frame, ("f1", "f2"), categorical=("region",))
    assert pre.categorical == () and "region" in pre.dropped
    assert pre.columns == ("f1", "f2")


def test_the_stored_model_transforms_and_scores_identically() -> None:
    frame, _ = planted()
    frame.loc[:20, "region"] = None
    frame.loc[:50, "f2"] = np.nan
    model = fit_segments(frame, config(categorical_features=("region",), categorical_max_levels=2))
    (levels,) = model.preprocessor.levels  # the two most frequent, then the rest
    assert len(levels) == 3 and levels[-1] == OTHER_LEVEL
    params = model_to_params(model)
    restored = model_from_params(params)
    assert restored.preprocessor == model.preprocessor
    np.testing.assert_array_equal(
        restored.preprocessor.transform(frame), model.preprocessor.transform(frame)
    )
    pd.testing.assert_frame_equal(score_segments(model, frame), score_segments(restored, frame))
    shares = params[(params["record_type"] == "centroid_original") & (params["segment_id"] == 1)]
    level_share = shares[shares["name"].str.startswith("region=")]["value"]
    assert level_share.sum() == pytest.approx(1.0)  # a segment's shares of the levels


def test_the_run_id_follows_the_levels_and_the_weight() -> None:
    frame, _ = planted(n=300)
    ids = {
        fit_segments(frame, cfg).run_id
        for cfg in (
            config(k=3),
            config(k=3, categorical_features=("region",)),
            config(k=3, categorical_features=("region",), categorical_weight=2.0),
            config(k=3, categorical_features=("region",), categorical_max_levels=2),
        )
    }
    assert len(ids) == 4


def test_a_model_without_categorical_features_keeps_its_run_id_and_parameters() -> None:
    # Pins the run ids and preprocessing rows of models without categorical features: the
    # categorical settings must not move them. Recomputed when a rule of the fit itself
    # changed (the k rule's shop_k_rule_standard_errors, then its segment Jaccard check and
    # the default shop_log_features, which are in the fit's JSON): a different fit gets a new id.
    frame, _ = blobs(centers=4, seed=3)
    frame.loc[frame.index[:9], "f3"] = np.nan
    kept = ["scaler_mean", "scaler_scale", "log1p", "clip_lower", "clip_upper", "impute_median"]
    agglomerative = SegmentConfig(
        features=("f1", "f2", "f3"), k_min=2, k_max=5, n_init=2, algorithm="agglomerative"
    )
    expected = {
        CONFIG: ("4435f22b385f429f", "bbf6a5a233d5640b"),
        agglomerative: ("de4541ad2b10632e", "ce5868569a7e702f"),
    }
    for cfg, (run_id, rows_hash) in expected.items():
        model = fit_segments(frame, cfg)
        params = model_to_params(model, extra={"config": cfg.to_json()})
        part = params[
            params["record_type"].isin([*kept, "missing_flag"]) | (params["name"] == "config")
        ]
        rows = "\n".join(
            f"{r.record_type} {r.name} {r.value!r} {r.text_value}" for r in part.itertuples()
        )
        assert model.run_id == run_id
        assert hashlib.sha256(rows.encode()).hexdigest()[:16] == rows_hash
        assert "categorical" not in cfg.to_json()
        assert "categorical_level" not in set(params["record_type"])


def test_an_attribute_that_is_no_text_column_is_refused_with_the_var_named() -> None:
    frame, _ = planted()
    for name, problem in (("regoin", "is no column"), ("spend", "is no text column")):
        with pytest.raises(ConfigError, match=f"shop_segment_categorical_features: .*{problem}"):
            fit_segments(frame, config(categorical_features=(name,)))
    with pytest.raises(ConfigError, match="shop_categorical_weight"):
        config(categorical_weight=0.0)


def test_settings_from_dbt_strings() -> None:
    read = SegmentConfig.from_mapping(
        {
            "features": "None",
            "categorical_features": "['country', 'gender']".replace("'", '"'),
            "categorical_weight": "1.5",
            "categorical_max_levels": "4",
        }
    )
    assert read.categorical_features == ("country", "gender")
    assert (read.categorical_weight, read.categorical_max_levels) == (1.5, 4)
    assert SegmentConfig.from_mapping({"categorical_features": "None"}).categorical_features == ()


def test_a_previous_model_with_other_or_no_categorical_columns_still_matches() -> None:
    frame, _ = planted()
    on = config(categorical_features=("region",), categorical_weight=3.0)
    model = fit_segments(frame, on)
    plain = fit_segments(frame, config(k=3))
    fewer = fit_segments(
        frame,
        config(categorical_features=("region",), categorical_weight=3.0, categorical_max_levels=2),
    )
    same = align_to_previous(model, model_from_params(model_to_params(model)), 0.5)
    assert same.segment_ids == model.segment_ids and same.names == model.names
    # without categorical columns the previous model is compared on the numbers only
    assert set(align_to_previous(model, plain, 1e9).segment_ids) == {1, 2, 3}
    # fewer levels: the level the previous model lumped into (other) sits at its share
    assert set(align_to_previous(model, fewer, 1.5).segment_ids) == {1, 2, 3}
    # and a model without them ignores the previous model's one-hot columns
    assert set(align_to_previous(plain, model, 1e9).segment_ids) == {1, 2, 3}
