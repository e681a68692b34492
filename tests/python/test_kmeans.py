"""The K-means library on synthetic data with known answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score

from shopseg.config import RATIO_SCALE_FEATURES, ConfigError, SegmentConfig
from shopseg.kmeans import (
    align_to_previous,
    choose_k,
    fit_hash,
    fit_segments,
    score_segments,
)
from shopseg.params import model_from_params, model_to_params
from shopseg.preprocess import fit_preprocessor


def blobs(n: int = 3000, centers: int = 4, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """Well separated Gaussian blobs as a customer feature frame, with the true labels."""
    x, y = make_blobs(
        n_samples=n,
        centers=centers,
        n_features=3,
        cluster_std=0.6,
        center_box=(-12, 12),
        random_state=seed,
    )
    frame = pd.DataFrame(x, columns=["f1", "f2", "f3"])
    frame.insert(0, "customer_id", [f"c{i:05d}" for i in range(n)])
    return frame, y


CONFIG = SegmentConfig(features=("f1", "f2", "f3"), k_min=2, k_max=7, n_init=2)


def test_blobs_are_recovered_exactly() -> None:
    frame, truth = blobs()
    model = fit_segments(frame, CONFIG)
    assert model.k == 4
    scored = score_segments(model, frame)
    assert adjusted_rand_score(truth, scored["segment_id"]) == pytest.approx(1.0)


def test_fit_is_deterministic_and_row_order_free() -> None:
    frame, _ = blobs()
    a = score_segments(fit_segments(frame, CONFIG), frame)
    shuffled = frame.sample(frac=1.0, random_state=3)
    b = score_segments(fit_segments(shuffled, CONFIG), shuffled)
    pd.testing.assert_frame_equal(a, b)


def test_choose_k_never_picks_a_k_with_a_tiny_segment() -> None:
    sweep = pd.DataFrame(
        {"k": [2, 3, 4], "silhouette": [0.5, 0.9, 0.4], "min_segment_share": [0.3, 0.01, 0.1]}
    )
    k, _ = choose_k(sweep, min_segment_share=0.05)
    assert k == 2
    k, _ = choose_k(sweep, min_segment_share=0.0)
    assert k == 3


def test_choose_k_takes_the_smallest_k_the_silhouettes_cannot_tell_apart() -> None:
    rng = np.random.default_rng(0)
    base = rng.uniform(0.2, 0.6, 2_000)
    sweep = pd.DataFrame(
        {"k": [3, 4, 5], "silhouette": [0.0, 0.0, 0.0], "min_segment_share": [0.2] * 3}
    )
    # k 5 beats k 3 by noise only (0.001 on average), k 4 is clearly worse
    points = np.column_stack([base, base - 0.05, base + 0.001 + rng.normal(0, 0.05, base.size)])
    sweep["silhouette"] = points.mean(axis=0)
    sweep.attrs["silhouette_points"] = points
    assert choose_k(sweep, 0.02)[0] == 5  # the best, without a tolerance
    k, rule = choose_k(sweep, 0.02, standard_errors=2.0)
    assert k == 3 and "within 2 standard errors" in rule
    # a real difference (0.03, many standard errors) keeps the better k
    points[:, 2] = base + 0.03 + rng.normal(0, 0.01, base.size)
    sweep["silhouette"] = points.mean(axis=0)
    assert choose_k(sweep, 0.02, standard_errors=2.0)[0] == 5


def test_outliers_do_not_win_a_segment_of_their_own() -> None:
    frame, _ = blobs(centers=3)
    frame.loc[:4, ["f1", "f2", "f3"]] = 1e6  # five extreme customers
    model = fit_segments(frame, CONFIG)
    sizes = score_segments(model, frame)["segment_id"].value_counts(normalize=True)
    assert sizes.min() >= CONFIG.min_segment_share


def test_params_round_trip_scores_identically() -> None:
    frame, _ = blobs()
    model = fit_segments(frame, CONFIG)
    restored = model_from_params(model_to_params(model))
    pd.testing.assert_frame_equal(score_segments(model, frame), score_segments(restored, frame))
    assert restored.names == model.names and restored.run_id == model.run_id


def test_missing_values_are_imputed_and_flagged_once_per_pattern() -> None:
    frame = pd.DataFrame(
        {
            "customer_id": list("abcdef"),
            "spend": [1.0, 2.0, None, 4.0, 100.0, None],
            "recency": [1.0, 5.0, None, 3.0, 2.0, None],
            "flat": [1.0] * 6,
        }
    )
    pre = fit_preprocessor(frame, ("spend", "recency", "flat", "absent"), winsor_quantile=0.0)
    assert pre.features == ("spend", "recency")
    assert pre.missing_flags == ("spend",)  # recency has the same missing pattern
    assert set(pre.dropped) == {"flat", "absent"}
    x = pre.transform(frame)
    assert np.isfinite(x).all()


def test_a_rare_missing_value_does_not_become_a_segment() -> None:
    # 9 of 3,000 customers (0.3%) lack f3: z-scored, their flag would sit 18 units away and
    # take a segment of its own at every k, below shop_min_segment_share, so no k of the
    # four planted groups could be chosen
    frame, truth = blobs(centers=4, seed=3)
    frame.loc[frame.index[:9], "f3"] = np.nan
    model = fit_segments(frame, CONFIG)
    assert model.preprocessor.missing_flags == ("f3",)
    flag = model.preprocessor.transform(frame)[:, -1]
    assert np.abs(flag).max() <= 2.0  # the spread of a balanced yes/no column
    assert model.k == 4
    scored = score_segments(model, frame)
    assert adjusted_rand_score(truth, scored["segment_id"]) > 0.95


def test_log_features_are_logged_whatever_their_skewness() -> None:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "customer_id": [f"c{i}" for i in range(500)],
            "tenure_days": rng.uniform(0, 1000, 500),  # skewness about 0
            "age": rng.uniform(18, 80, 500),
            "balance": rng.uniform(-5, 5, 500),  # negative values: never logged
        }
    )
    features = ("tenure_days", "age", "balance")
    default = fit_preprocessor(frame, features)
    assert default.log1p == (False, False, False)
    forced = fit_preprocessor(frame, features, log_features=("tenure_days", "balance"))
    assert forced.log1p == (True, False, False)
    # the counts, durations and money by default; [] (the skew rule alone) leaves the
    # setting out of the fit's JSON, so models fitted before it existed keep their run ids
    assert SegmentConfig().log_features == RATIO_SCALE_FEATURES
    assert SegmentConfig.from_mapping({"log_features": "None"}).log_features == RATIO_SCALE_FEATURES
    off = SegmentConfig.from_mapping({"log_features": "[]"})
    assert off.log_features == () and "log_features" not in off.to_json()
    assert '"log_features": ["age"]' in SegmentConfig(log_features=("age",)).to_json()


def test_infinite_and_text_values_are_treated_as_missing() -> None:
    frame = pd.DataFrame({"customer_id": list("abcd"), "spend": [1.0, np.inf, 3.0, 4.0]})
    pre = fit_preprocessor(frame, ("spend",))
    assert np.isfinite(pre.transform(frame)).all()


def test_duplicate_ids_are_refused_with_the_column_named() -> None:
    frame, _ = blobs(n=50)
    frame.loc[1, "customer_id"] = frame.loc[0, "customer_id"]
    with pytest.raises(ValueError, match="customer_features.customer_id: 1 duplicated"):
        fit_segments(frame, CONFIG)


def test_config_from_dbt_strings() -> None:
    config = SegmentConfig.from_mapping(
        {"k_min": "3", "k_max": "6", "k": "None", "features": "None", "min_segment_share": "0.05"}
    )
    assert (config.k_min, config.k_max, config.k, config.min_segment_share) == (3, 6, None, 0.05)
    assert "recency_days" in config.features
    with pytest.raises(ConfigError, match="shop_k_max"):
        SegmentConfig.from_mapping({"k_min": "5", "k_max": "3"})
    with pytest.raises(ConfigError, match="shop_k_min"):
        SegmentConfig.from_mapping({"k_min": "three"})


def test_segment_ids_survive_a_refit_with_permuted_labels() -> None:
    frame, _ = blobs(centers=4)
    first = fit_segments(frame, CONFIG)
    # another seed permutes the raw K-means labels; more data shifts the scaler slightly
    more, _ = blobs(n=3300, centers=4)
    second = fit_segments(more, SegmentConfig(**{**CONFIG.__dict__, "random_state": 7}))
    aligned = align_to_previous(second, first, max_distance=1.5)
    a = score_segments(first, frame)
    b = score_segments(aligned, frame)
    assert (a["segment_id"] == b["segment_id"]).mean() > 0.99
    assert set(aligned.segment_ids) == set(first.segment_ids)
    assert dict(zip(aligned.segment_ids, aligned.names, strict=True)) == dict(
        zip(first.segment_ids, first.names, strict=True)
    )


def test_a_genuinely_new_segment_gets_a_new_id() -> None:
    three, _ = blobs(centers=3, seed=1)
    first = fit_segments(three, SegmentConfig(features=("f1", "f2", "f3"), k=3, n_init=2))
    far = three.sample(600, random_state=0).copy()
    far[["f1", "f2", "f3"]] = far[["f1", "f2", "f3"]] * 0.1 + 40.0  # a new, distant group
    far["customer_id"] = [f"n{i:05d}" for i in range(len(far))]
    grown = pd.concat([three, far], ignore_index=True)
    second = fit_segments(grown, SegmentConfig(features=("f1", "f2", "f3"), k=4, n_init=2))
    aligned = align_to_previous(second, first, max_distance=1.5)
    assert set(first.segment_ids) < set(aligned.segment_ids)
    assert max(aligned.segment_ids) == 4
    scored = score_segments(aligned, far)
    assert (scored["segment_id"] == 4).all()
    assert len(set(aligned.names)) == 4


def test_outlier_flag_marks_the_far_customers() -> None:
    frame, _ = blobs(centers=3)
    model = fit_segments(frame, CONFIG)
    scored = score_segments(model, frame)
    assert 0.005 < scored["is_outlier"].mean() < 0.02
    far = frame.head(3).copy()
    far[["f1", "f2", "f3"]] = 500.0
    assert score_segments(model, far)["is_outlier"].all()


def test_data_returning_to_an_earlier_state_gets_a_new_version() -> None:
    a_frame, _ = blobs(seed=0)
    b_frame, _ = blobs(n=3300, seed=0)
    a = fit_segments(a_frame, CONFIG)
    b = align_to_previous(fit_segments(b_frame, CONFIG), a, max_distance=1.5)
    a_again = align_to_previous(fit_segments(a_frame, CONFIG), b, max_distance=1.5)
    assert len({a.run_id, b.run_id, a_again.run_id}) == 3
    assert fit_hash(a_again) == a.run_id  # same fit as the first, another version
    assert a_again.segment_ids == a.segment_ids


def test_agglomerative_recovers_blobs_and_keeps_its_tree() -> None:
    frame, truth = blobs(n=6000)
    config = SegmentConfig(
        features=("f1", "f2", "f3"),
        k_min=2,
        k_max=6,
        algorithm="agglomerative",
        agglomerative_sample_size=1500,
    )
    model = fit_segments(frame, config)
    assert model.k == 4 and model.metrics["algorithm"] == "agglomerative"
    scored = score_segments(model, frame)  # everyone beyond the sample: nearest centre
    assert adjusted_rand_score(truth, scored["segment_id"]) > 0.99
    assert model.dendrogram.shape == (1499, 4)
    params = model_to_params(model)
    assert (params["record_type"] == "dendrogram").sum() == 1499 * 4
    with pytest.raises(ConfigError, match="shop_algorithm"):
        SegmentConfig(algorithm="dbscan")


def test_silhouettes_of_several_labellings_equal_scikit_learn() -> None:
    from sklearn.metrics import silhouette_score

    from shopseg.kmeans import silhouettes

    rng = np.random.default_rng(7)
    x = rng.normal(size=(1500, 6))
    label_sets = [rng.integers(0, k, len(x)) for k in (2, 4, 7)]
    label_sets.append(np.r_[np.zeros(len(x) - 1, dtype=int), [3]])  # a one-customer cluster
    label_sets.append(np.zeros(len(x), dtype=int))  # one cluster: undefined
    got = silhouettes(x, label_sets, chunk_rows=400)
    for labels, value in zip(label_sets[:-1], got[:-1], strict=True):
        assert abs(value - silhouette_score(x, labels)) < 1e-12
    assert np.isnan(got[-1])


def test_scores_have_the_same_bits_wherever_a_customer_sits_and_however_many_threads() -> None:
    from threadpoolctl import threadpool_limits

    from shopseg.kmeans import _squared_distances

    rng = np.random.default_rng(3)
    n = 60_000
    x = np.column_stack(
        [rng.normal(size=n), rng.lognormal(size=n), rng.integers(0, 2, n) * 3.1]
        + [rng.standard_t(3, n) for _ in range(10)]
    )
    centres = rng.normal(size=(6, x.shape[1]))
    expected = _squared_distances(x, centres)
    # a row's distances are its own: not its position, the array's layout or the threads
    perm = rng.permutation(n)
    assert np.array_equal(_squared_distances(x[perm], centres)[np.argsort(perm)], expected)
    assert np.array_equal(_squared_distances(np.asfortranarray(x), centres), expected)
    assert np.array_equal(_squared_distances(x[:1000], centres), expected[:1000])
    with threadpool_limits(limits=1):
        assert np.array_equal(_squared_distances(x, centres), expected)
    np.testing.assert_allclose(expected, ((x[:, None, :] - centres[None]) ** 2).sum(axis=2))
    # and the scores of a shuffled frame are those of the ordered one, bit for bit
    frame, _ = blobs(5000)
    model = fit_segments(frame, CONFIG)
    shuffled = frame.sample(frac=1.0, random_state=7)
    pd.testing.assert_frame_equal(
        score_segments(model, frame), score_segments(model, shuffled), check_exact=True
    )


def test_every_algorithm_the_settings_accept_is_fitted_by_one_class() -> None:
    from shopseg.config import ALGORITHM_NAMES
    from shopseg.kmeans import ALGORITHMS, WardAlgorithm, algorithm_of

    assert set(ALGORITHMS) == set(ALGORITHM_NAMES)
    config = SegmentConfig(algorithm="agglomerative", sweep_sample_size=9000)
    assert isinstance(algorithm_of(config.algorithm), WardAlgorithm)
    assert algorithm_of(config.algorithm).sweep_size(config) == config.agglomerative_sample_size
    with pytest.raises(ValueError, match="shop_algorithm"):
        algorithm_of("dbscan")
