"""Bootstrap stability (shopseg.stability): structure reproduces, noise does not."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_blobs

from shopseg.config import ConfigError, SegmentConfig
from shopseg.kmeans import align_to_previous, fit_segments
from shopseg.stability import (
    best_jaccard,
    measured_alike,
    resample_rows,
    segment_stability,
    stability_params,
)

FEATURES = tuple(f"f{i}" for i in range(8))
# the k rule's Jaccard check off: these tests measure the stability of the k it would leave
CONFIG = SegmentConfig(
    features=FEATURES, k_min=3, k_max=8, n_init=2, bootstrap_resamples=5, k_rule_min_jaccard=0
)
DEFAULT_FLOOR = 0.75  # shop_min_bootstrap_stability
DEFAULT_JACCARD = 0.6  # shop_min_segment_jaccard


def frame_of(x: np.ndarray) -> pd.DataFrame:
    frame = pd.DataFrame(x, columns=list(FEATURES))
    frame.insert(0, "customer_id", [f"c{i:05d}" for i in range(len(x))])
    return frame


def blobs(n: int = 3000, seed: int = 0) -> pd.DataFrame:
    x, _ = make_blobs(n, n_features=8, centers=5, cluster_std=1.0, random_state=seed)
    return frame_of(x)


def noise(n: int = 3000, seed: int = 0) -> pd.DataFrame:
    """A shop with no structure: one isotropic Gaussian cloud."""
    return frame_of(np.random.default_rng(seed).normal(size=(n, len(FEATURES))))


def test_separated_segments_reproduce() -> None:
    frame = blobs()
    model = fit_segments(frame, CONFIG)
    stability = segment_stability(frame, model, CONFIG)
    assert stability.ari == pytest.approx(1.0)
    assert set(stability.segment_jaccard) == set(model.segment_ids)
    assert min(stability.segment_jaccard.values()) == pytest.approx(1.0)
    assert stability.resamples == 5 and stability.sample_size == 2400  # 80% of 3,000


def test_segments_of_noise_do_not_reproduce() -> None:
    frame = noise()
    model = fit_segments(frame, CONFIG)
    stability = segment_stability(frame, model, CONFIG)
    assert model.k >= 3
    assert stability.ari < DEFAULT_FLOOR  # the gate's default floor: it warns (or fails)
    dissolved = [j for j in stability.segment_jaccard.values() if j < DEFAULT_JACCARD]
    assert dissolved, stability.segment_jaccard


def test_the_figure_is_fixed_and_row_order_free() -> None:
    frame = noise(1500)
    model = fit_segments(frame, CONFIG)
    first = segment_stability(frame, model, CONFIG)
    shuffled = frame.sample(frac=1.0, random_state=4)
    assert segment_stability(shuffled, model, CONFIG) == first


def test_aligned_ids_carry_their_segment_figure() -> None:
    frame = blobs()
    model = fit_segments(frame, CONFIG)
    renumbered = replace(model, segment_ids=tuple(10 + s for s in model.segment_ids))
    a = segment_stability(frame, model, CONFIG)
    b = segment_stability(frame, renumbered, CONFIG)
    assert b.ari == a.ari
    assert b.segment_jaccard == {10 + s: j for s, j in a.segment_jaccard.items()}


def test_fallback_and_zero_resamples_measure_nothing() -> None:
    frame = blobs(300)
    one = fit_segments(frame, replace(CONFIG, k=1))
    assert np.isnan(segment_stability(frame, one, CONFIG).ari)
    off = replace(CONFIG, bootstrap_resamples=0)
    stability = segment_stability(frame, fit_segments(frame, off), off)
    assert np.isnan(stability.ari) and stability.segment_jaccard == {}
    rows = stability_params("r1", stability, off)
    assert set(rows["name"]) == {"bootstrap_resamples", "bootstrap_sample_size"}


def test_subsample_is_bounded_and_seeded() -> None:
    config = replace(CONFIG, bootstrap_sample_size=500)
    rows = resample_rows(10_000, config, 0)
    assert len(rows) == 500 and len(np.unique(rows)) == 500
    assert np.array_equal(rows, resample_rows(10_000, config, 0))
    assert not np.array_equal(rows, resample_rows(10_000, config, 1))
    assert len(resample_rows(100, config, 0)) == 80


def test_best_jaccard() -> None:
    reference = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    labels = np.array([5, 5, 5, 7, 7, 7, 7, 7])  # segment 0 keeps 3 of 4, 1 is absorbed
    out = best_jaccard(reference, labels, 3)
    assert out[0] == pytest.approx(3 / 4)
    assert out[1] == pytest.approx(4 / 5)
    assert np.isnan(out[2])  # no customer of segment 2 in the subsample


def test_stored_rows_and_settings_check() -> None:
    frame = blobs()
    model = fit_segments(frame, CONFIG)
    rows = stability_params(model.run_id, segment_stability(frame, model, CONFIG), CONFIG)
    run = rows[rows["record_type"] == "run"].set_index("name")["value"]
    assert run["bootstrap_stability"] == pytest.approx(1.0)
    assert run["bootstrap_resamples"] == 5 and run["bootstrap_sample_size"] == 5_000
    segments = rows[rows["record_type"] == "segment_stability"]
    assert sorted(segments["segment_id"]) == list(model.segment_ids)
    stored = dict(run)
    assert measured_alike(stored, CONFIG)
    assert not measured_alike(stored, replace(CONFIG, bootstrap_resamples=6))
    assert not measured_alike({}, CONFIG)  # a run stored without the figure


def test_bootstrap_settings_leave_the_run_id_alone() -> None:
    frame = blobs(600)
    a = fit_segments(frame, CONFIG)
    b = fit_segments(frame, replace(CONFIG, bootstrap_resamples=3, bootstrap_sample_size=50))
    assert a.run_id == b.run_id
    assert "bootstrap_resamples" in json.loads(CONFIG.to_json())
    assert "bootstrap_resamples" not in json.loads(CONFIG.fit_json())
    aligned = align_to_previous(b, a, CONFIG.match_max_distance)
    assert aligned.run_id != a.run_id  # re-measured: stored as a new version


def test_bootstrap_settings_are_checked() -> None:
    with pytest.raises(ConfigError, match="shop_bootstrap_resamples"):
        SegmentConfig(bootstrap_resamples=-1)
    with pytest.raises(ConfigError, match="shop_bootstrap_sample_size"):
        SegmentConfig(bootstrap_sample_size=0)
    assert SegmentConfig.from_mapping({"bootstrap_resamples": "0"}).bootstrap_resamples == 0


def test_the_k_rule_steps_down_from_a_k_whose_segments_do_not_reproduce() -> None:
    frame = noise()
    plain = fit_segments(frame, CONFIG)
    ruled_config = replace(CONFIG, k_rule_min_jaccard=DEFAULT_JACCARD)
    ruled = fit_segments(frame, ruled_config)
    assert plain.k == 8 and ruled.k == CONFIG.k_min  # no k of a Gaussian cloud reproduces
    assert "stepped down from k=8" in ruled.metrics["rule"]
    assert "stepped down" not in plain.metrics["rule"]
    # the figures stored for the chosen k are the ones the rule looked at
    jaccard = segment_stability(frame, ruled, ruled_config).segment_jaccard
    assert min(jaccard.values()) < DEFAULT_JACCARD
    assert ruled.run_id != plain.run_id
    # with the rule on, the refits choose k: the bootstrap settings are part of the run id
    assert "bootstrap_resamples" in json.loads(ruled_config.fit_json())
    fewer = fit_segments(frame, replace(ruled_config, bootstrap_resamples=3))
    assert fewer.run_id != ruled.run_id


def test_the_k_rule_keeps_a_k_whose_segments_reproduce() -> None:
    frame = blobs(1500)
    plain = fit_segments(frame, CONFIG)
    ruled = fit_segments(frame, replace(CONFIG, k_rule_min_jaccard=0.9))
    assert plain.k == ruled.k == 5
    assert ruled.metrics["rule"] == plain.metrics["rule"]
    assert np.array_equal(ruled.centroids, plain.centroids)
    # off, it is not in the settings: run ids stay as they were before it existed
    assert "k_rule_min_jaccard" not in json.loads(CONFIG.to_json())


def test_the_k_rule_settings_are_checked() -> None:
    with pytest.raises(ConfigError, match="shop_k_rule_min_jaccard must be in"):
        SegmentConfig(k_rule_min_jaccard=1.5)
    # no refits, nothing to check: off, and out of the fit's JSON
    unmeasured = SegmentConfig(k_rule_min_jaccard=0.6, bootstrap_resamples=0)
    assert not unmeasured.checks_segment_jaccard
    assert "k_rule_min_jaccard" not in unmeasured.fit_json()
    assert SegmentConfig().checks_segment_jaccard  # on by default


@pytest.mark.parametrize("make", [noise, blobs], ids=["steps down", "keeps k"])
def test_the_k_rule_refits_are_the_stability_figures(make) -> None:
    frame = make(1500)
    config = replace(CONFIG, k_rule_min_jaccard=DEFAULT_JACCARD)
    model = fit_segments(frame, config)
    assert model.refits is not None and model.refits.measured_with(config)
    remeasured = segment_stability(frame, replace(model, refits=None), config)
    assert segment_stability(frame, model, config) == remeasured
    # ids matched to a previous run reorder the centroids: each keeps its own figure
    previous = replace(model, centroids=model.centroids[::-1], names=model.names[::-1])
    aligned = align_to_previous(model, previous, max_distance=1e-6)
    assert np.array_equal(aligned.centroids, model.centroids[::-1])
    assert segment_stability(frame, aligned, config) == segment_stability(
        frame, replace(aligned, refits=None), config
    )
    # other bootstrap settings than the refits were made with: measured again
    other = replace(config, bootstrap_resamples=3)
    assert not model.refits.measured_with(other)
    assert segment_stability(frame, model, other).resamples == 3
