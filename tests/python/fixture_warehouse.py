"""A small published DuckDB file written without dbt, for the report, export and summary tests.

The tables carry the names, columns and types of the contracted marts (test_report checks them
against the marts' YAML), filled with a few hundred customers of four segments whose numbers
agree with each other the way a real build's do: profiles, lifts, centroids, migration and
rule supports, the segment history over three builds and the category affinity are computed
from the customer rows, not typed in.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from shopseg.config import DEFAULT_FEATURES
from shopseg.export import email_sha256, holdout_flags

AS_OF = datetime(2026, 7, 14, 3, 0, 0)
RUN_ID, PREVIOUS_RUN_ID = "a1b2c3d4e5f60002", "a1b2c3d4e5f60001"
FOREST_RUN_ID, PREVIOUS_FOREST_RUN_ID = "f0e1d2c3b4a50002", "f0e1d2c3b4a50001"
CUSTOMERS = 400
# (segment id, name, share of customers)
SEGMENTS = (
    (1, "Browsers, no purchase", 0.35),
    (2, "One-time buyers", 0.30),
    (3, "High-value loyal", 0.20),
    (4, "Lapsed big spenders", 0.15),
)
MODEL_FEATURES = DEFAULT_FEATURES
CHOSEN_K = 4
MIN_SEGMENT_SHARE = 0.02

# The published tables the report, `shopseg export` and `shopseg summary` read, as the marts
# declare them (dbt's text and double are DuckDB's varchar and double). A column no frame
# below fills is null.
TABLES = {
    "customer_features": """
        customer_id varchar, as_of_at timestamp, is_registered boolean, signup_at timestamp,
        tenure_days bigint, age integer, age_band varchar, gender varchar, country varchar,
        income double, income_band varchar, acquisition_channel varchar, order_count bigint,
        cancelled_order_count bigint, returned_order_count bigint, monetary decimal(38, 2),
        avg_order_value double, first_order_at timestamp, last_order_at timestamp,
        recency_days bigint, avg_days_between_orders double, discounted_order_share double,
        discount_revenue_share double, return_rate double, cancel_rate double,
        distinct_categories bigint, favourite_category varchar, items_per_order double,
        category_share_1 double, category_share_2 double, category_share_3 double,
        category_share_4 double, category_share_5 double, favourite_category_share double,
        category_spend_entropy double, price_position_index double,
        repeat_product_share double, top_brand_spend_share double, session_count bigint,
        events_per_session double, avg_session_duration_seconds double,
        product_view_count bigint, search_count bigint, cart_add_count bigint,
        checkout_count bigint, browse_to_buy_conversion double, cart_abandonment_rate double,
        last_visit_at timestamp, days_since_last_visit bigint, active_days_30d bigint,
        active_days_90d bigint, night_activity_share double, morning_activity_share double,
        afternoon_activity_share double, evening_activity_share double,
        weekend_activity_share double, search_session_share double, mobile_event_share double,
        top_device varchar, lifecycle_stage varchar, recency_score integer,
        frequency_score integer, monetary_score integer, rfm_cell varchar, rfm_segment varchar
    """,
    "customer_segments": """
        customer_id varchar, segment_id bigint, segment_name varchar, centroid_distance double,
        is_outlier boolean, second_segment_id bigint, second_centroid_distance double,
        previous_segment_id bigint, lifecycle_stage varchar, rfm_segment varchar,
        run_id varchar, predicted_segment_id bigint, predicted_probability double,
        is_forest_disagreement boolean, is_holdout boolean, accepts_marketing boolean,
        email_sha256 varchar
    """,
    "segmentation_runs": """
        run_id varchar, run_seq bigint, is_current boolean, as_of_at timestamp,
        algorithm varchar, fit_customers integer, customers bigint, outlier_customers bigint,
        k integer, silhouette double, bootstrap_stability double, inertia double,
        fit_sample_size integer, k_rule varchar,
        status varchar, features_used varchar, features_dropped varchar,
        previous_run_id varchar, stability_common_customers bigint, stability_ari double
    """,
    "segment_model_versions": """
        run_id varchar, run_seq bigint, is_current boolean, previous_run_id varchar,
        k integer, max_segment_id integer, features_used varchar, config varchar,
        library_versions varchar
    """,
    "segment_centroids": """
        run_id varchar, segment_id bigint, feature varchar, centroid_standardised double,
        centroid_original double
    """,
    "segment_k_selection": """
        run_id varchar, is_current boolean, k bigint, silhouette double, inertia double,
        between_ss double, calinski_harabasz double, davies_bouldin double,
        min_segment_share double, elbow_score double, sample_size integer, is_chosen boolean
    """,
    "segment_migration": """
        previous_run_id varchar, run_id varchar, from_segment_id bigint, to_segment_id bigint,
        customers bigint
    """,
    "customer_segment_history": """
        customer_id varchar, segment_id bigint, segment_name varchar, run_id varchar,
        build_seq bigint, valid_from timestamp, valid_to timestamp, is_current boolean
    """,
    "segment_transitions": """
        build_seq bigint, run_id varchar, as_of_at timestamp, from_segment_id bigint,
        from_segment_name varchar, to_segment_id bigint, to_segment_name varchar,
        is_move boolean, customers bigint
    """,
    "segment_category_affinity": """
        run_id varchar, segment_id bigint, segment_name varchar, category varchar,
        customers bigint, segment_customers bigint, revenue decimal(38, 2),
        revenue_share double, customer_share double, overall_customer_share double,
        lift double, pearson_residual double, is_notable boolean, affinity_rank bigint
    """,
    "segment_profiles": """
        run_id varchar, segment_id bigint, segment_name varchar, generated_name varchar,
        customers bigint, customer_share double, revenue decimal(38, 2), revenue_share double,
        dominant_lifecycle_stage varchar, dominant_lifecycle_stage_share double,
        top_feature_1 varchar, top_feature_1_z double, top_feature_2 varchar,
        top_feature_2_z double, top_feature_3 varchar, top_feature_3_z double,
        avg_recency_days double, avg_order_count double, avg_monetary double,
        avg_order_value double, avg_discounted_order_share double, avg_session_count double,
        avg_product_view_count double, avg_tenure_days double, avg_age double,
        avg_income double, segment_jaccard double, is_reproducible boolean,
        expected_revenue decimal(38, 2), mean_p_no_order double, at_risk_customers bigint,
        at_risk_revenue decimal(38, 2)
    """,
    "segment_feature_profiles": """
        run_id varchar, segment_id bigint, feature varchar, customers_with_value bigint,
        mean_value double, median_value double, overall_mean double, overall_sd double,
        lift double, z_score double
    """,
    "segment_feature_importance": """
        run_id varchar, is_current boolean, feature varchar,
        permutation_importance_mean double, permutation_importance_std double,
        permutation_rank bigint, impurity_importance double, impurity_rank bigint,
        impute_median double
    """,
    "segment_rules": """
        run_id varchar, is_current boolean, rule_id integer, segment_id integer,
        segment_name varchar, rule_kind varchar, rule_text varchar, condition_count integer,
        rule_support integer, rule_precision double, holdout_support integer,
        holdout_precision double
    """,
    "data_quality_issues": """
        table_name varchar, problem varchar, handling varchar, rows_affected bigint
    """,
    # published without fit_seconds (the fit's timing differs from build to build)
    "prediction_runs": """
        prediction_run_id varchar, backtest_run_id varchar, status varchar,
        as_of_at timestamp, calibration_end_at timestamp, horizon_days integer,
        predicted_customers bigint, backtest_customers bigint, ordered_again_share double,
        auc double, brier double, predicted_orders double, actual_orders bigint,
        total_error double, fit_customers bigint
    """,
    "prediction_calibration": """
        run_id varchar, decile bigint, customers bigint, predicted_share double,
        observed_share double, predicted_orders double, actual_orders bigint
    """,
}
# mean churn risk (p_no_order) per segment id: browsers and lapsed spenders most at risk
CHURN_RISK = {1: 0.93, 2: 0.71, 3: 0.28, 4: 0.64}
# The categories favourite_category is drawn from, and how much more often than the others
# each buying segment picks its further categories (the browsers buy nothing).
CATEGORIES = ("home", "beauty", "electronics", "fashion", "books", "toys")
CATEGORY_TASTE = {
    2: {"fashion": 4.0, "beauty": 3.0},
    3: {"electronics": 5.0, "home": 3.0},
    4: {"home": 4.0, "books": 3.0},
}
# segment_category_affinity.is_notable at the defaults of shop_affinity_min_residual and
# shop_affinity_min_customers (dbt_project.yml)
AFFINITY_MIN_RESIDUAL, AFFINITY_MIN_CUSTOMERS = 2.0, 20
# days between two stored builds of the segment history (the latest is AS_OF)
BUILD_GAP_DAYS = 28

# numeric customer features that segment_feature_profiles describes, in table order
PROFILE_FEATURES = (
    "tenure_days",
    "age",
    "income",
    "order_count",
    "cancelled_order_count",
    "returned_order_count",
    "monetary",
    "avg_order_value",
    "recency_days",
    "avg_days_between_orders",
    "discounted_order_share",
    "discount_revenue_share",
    "return_rate",
    "cancel_rate",
    "distinct_categories",
    "items_per_order",
    "category_share_1",
    "category_share_2",
    "category_share_3",
    "category_share_4",
    "category_share_5",
    "session_count",
    "events_per_session",
    "avg_session_duration_seconds",
    "product_view_count",
    "search_count",
    "cart_add_count",
    "checkout_count",
    "browse_to_buy_conversion",
    "cart_abandonment_rate",
    "days_since_last_visit",
    "active_days_30d",
    "active_days_90d",
)

# (segment id, kind, text, condition count, selector on customer_features) of the current run
RULES = (
    (1, "majority", "order_count = 0 and product_view_count >= 3", 2,
     lambda f: (f.order_count == 0) & (f.product_view_count >= 3)),
    (1, "one_vs_rest", "order_count = 0 and (age <= 30 or age is null)", 2,
     lambda f: (f.order_count == 0) & ((f.age <= 30) | f.age.isna())),
    (2, "majority", "1 <= order_count <= 2", 1,
     lambda f: f.order_count.between(1, 2)),
    (3, "majority", "order_count >= 3 and recency_days <= 120", 2,
     lambda f: (f.order_count >= 3) & (f.recency_days <= 120)),
    (4, "majority", "order_count >= 3 and recency_days >= 121", 2,
     lambda f: (f.order_count >= 3) & (f.recency_days >= 121)),
    (3, "one_vs_rest", "monetary > 1500 and income >= 60000", 2,
     lambda f: (f.monetary > 1500) & (f.income >= 60000)),
)  # fmt: skip


def _days(n: pd.Series) -> pd.Series:
    return pd.to_timedelta(n, unit="D")


def customer_features(customers: int, rng: np.random.Generator) -> pd.DataFrame:
    """customer_features rows and a `segment_id` column: the segment each customer was drawn in."""
    sizes = [round(customers * share) for _, _, share in SEGMENTS]
    sizes[0] += customers - sum(sizes)
    segment = rng.permutation(np.repeat([s for s, _, _ in SEGMENTS], sizes))
    n = customers

    def by_segment(values: dict[int, tuple[float, float]], kind: str = "uniform") -> np.ndarray:
        lo = np.array([values[s][0] for s in segment], dtype=float)
        hi = np.array([values[s][1] for s in segment], dtype=float)
        if kind == "normal":
            return rng.normal(lo, hi)
        return rng.uniform(lo, hi)

    f = pd.DataFrame({"customer_id": [str(i) for i in range(1, n + 1)], "segment_id": segment})
    f["as_of_at"] = AS_OF
    guest = (segment == 2) & (rng.random(n) < 0.08)
    f["is_registered"] = ~guest
    tenure = by_segment({1: (20, 700), 2: (60, 900), 3: (300, 1200), 4: (400, 1400)})
    f["tenure_days"] = pd.array(np.where(guest, np.nan, np.round(tenure)), dtype="Int64")
    f["signup_at"] = pd.Timestamp(AS_OF) - _days(f["tenure_days"].astype("float"))
    f.loc[guest, "signup_at"] = pd.NaT
    age = np.clip(
        np.round(by_segment({1: (27, 5), 2: (42, 10), 3: (48, 9), 4: (52, 9)}, "normal")), 18, 90
    )
    f["age"] = pd.array(np.where(guest | (rng.random(n) < 0.05), np.nan, age), dtype="Int64")
    labels = ["18-24", "25-34", "35-44", "45-54", "55-64", "65+"]
    bands = pd.cut(f["age"].astype("float"), [0, 24, 34, 44, 54, 64, 200], labels=labels)
    f["age_band"] = bands.astype("object").where(bands.notna(), "unknown")
    f["gender"] = rng.choice(["female", "male", "other", "unknown"], n, p=[0.48, 0.46, 0.02, 0.04])
    f["country"] = rng.choice(["FR", "DE", "IT", "ES", "NL"], n)
    income_mean_sd = {1: (31000, 8000), 2: (50000, 15000), 3: (96000, 20000), 4: (88000, 20000)}
    income = np.round(by_segment(income_mean_sd, "normal"), -2)
    f["income"] = np.where(guest | (rng.random(n) < 0.08), np.nan, np.maximum(income, 8000))
    f["income_band"] = np.select(
        [f["income"].isna(), f["income"] < 30000, f["income"] >= 80000],
        ["unknown", "low", "high"],
        "middle",
    )
    f["acquisition_channel"] = rng.choice(
        ["organic", "social", "affiliate", "email", "paid_search", "referral"], n
    )
    orders = np.round(by_segment({1: (0, 0), 2: (0.5, 2.49), 3: (7.5, 20.49), 4: (3.5, 10.49)}))
    orders = orders.astype(int)
    buyer = orders > 0
    f["order_count"] = orders
    f["cancelled_order_count"] = np.where(buyer, rng.poisson(0.2, n), 0)
    f["returned_order_count"] = np.where(buyer, rng.poisson(0.3, n), 0)
    aov = np.maximum(by_segment({1: (0, 1), 2: (100, 30), 3: (210, 50), 4: (260, 60)}, "normal"), 5)
    monetary = np.round(orders * aov, 2)
    f["monetary"] = monetary
    f["avg_order_value"] = np.where(buyer, monetary / np.maximum(orders, 1), np.nan)
    recency = np.round(by_segment({1: (0, 0), 2: (120, 520), 3: (1, 90), 4: (200, 720)}))
    newcomer = (segment == 2) & (tenure <= 150)
    recency = np.where(newcomer, np.round(rng.uniform(1, 30, n)), recency)
    recency = np.minimum(recency, np.nan_to_num(f["tenure_days"].astype("float"), nan=2000))
    f["recency_days"] = pd.array(np.where(buyer, recency, np.nan), dtype="Int64")
    gap = by_segment({1: (0, 0), 2: (20, 120), 3: (15, 45), 4: (30, 90)})
    f["last_order_at"] = pd.Timestamp(AS_OF) - _days(f["recency_days"].astype("float"))
    f["first_order_at"] = f["last_order_at"] - _days(np.round((orders - 1).clip(0) * gap))
    f["avg_days_between_orders"] = np.where(orders >= 2, np.round(gap, 6), np.nan)
    discounted = np.where(segment == 4, rng.beta(2, 5, n), rng.beta(1, 6, n))
    f["discounted_order_share"] = np.where(buyer, np.round(discounted, 6), np.nan)
    f["discount_revenue_share"] = np.where(buyer, np.round(discounted * 0.3, 6), np.nan)
    returned, cancelled = f["returned_order_count"], f["cancelled_order_count"]
    f["return_rate"] = (returned / (orders + returned)).where(orders + returned > 0)
    f["cancel_rate"] = (cancelled / (orders + cancelled)).where(orders + cancelled > 0)
    f["distinct_categories"] = pd.array(
        np.where(buyer, np.minimum(orders * 2, rng.integers(1, 9, n)), np.nan), dtype="Int64"
    )
    categories = rng.choice(CATEGORIES, n)
    f["favourite_category"] = np.where(buyer, categories, None)
    f["items_per_order"] = np.where(buyer, np.round(rng.uniform(1, 4, n), 6), np.nan)
    shares = rng.dirichlet(np.ones(6), n) * buyer[:, None]
    for i in range(5):
        f[f"category_share_{i + 1}"] = np.where(buyer, np.round(shares[:, i], 6), np.nan)
    sessions = np.round(
        by_segment({1: (2, 8.49), 2: (-0.49, 2.49), 3: (2.5, 8.49), 4: (0.5, 3.49)})
    )
    sessions = np.where(guest, 0, sessions).astype(int)
    visited = sessions > 0
    f["session_count"] = sessions
    f["events_per_session"] = np.where(visited, np.round(rng.uniform(2, 9, n), 6), np.nan)
    duration = rng.uniform(40, 600, n)
    f["avg_session_duration_seconds"] = np.where(visited, np.round(duration, 3), np.nan)
    views = np.round(
        by_segment({1: (3, 20.49), 2: (-0.49, 3.49), 3: (1.5, 8.49), 4: (-0.49, 4.49)})
    )
    f["product_view_count"] = np.where(visited, views, 0).astype(int)
    f["search_count"] = np.where(visited, rng.poisson(1.0, n), 0)
    carts = np.where(visited, rng.poisson(1.5, n) + buyer, 0)
    f["cart_add_count"] = carts
    checkouts = np.minimum(carts, np.where(buyer, rng.integers(1, 3, n), 0))
    f["checkout_count"] = checkouts
    conversion = pd.Series(checkouts / np.maximum(carts, 1)).where(carts > 0)
    f["browse_to_buy_conversion"] = conversion
    f["cart_abandonment_rate"] = 1 - conversion
    last_visit = np.round(by_segment({1: (1, 60), 2: (30, 400), 3: (1, 45), 4: (90, 500)}))
    f["days_since_last_visit"] = pd.array(np.where(visited, last_visit, np.nan), dtype="Int64")
    f["last_visit_at"] = pd.Timestamp(AS_OF) - _days(f["days_since_last_visit"].astype("float"))
    f["active_days_30d"] = np.where(visited & (last_visit <= 30), rng.integers(1, 4, n), 0)
    f["active_days_90d"] = f["active_days_30d"] + np.where(
        visited & (last_visit <= 90), rng.integers(0, 4, n), 0
    )
    recency_f = f["recency_days"].astype("float")
    tenure_f = f["tenure_days"].astype("float")
    f["lifecycle_stage"] = np.select(
        [
            ~buyer,
            (recency_f <= 30) & ((tenure_f <= 150) | tenure_f.isna()),
            (orders >= 5) & (recency_f <= 90),
            (segment == 4) & (recency_f <= 400) & (rng.random(n) < 0.25),
            recency_f <= 90,
            recency_f <= 180,
        ],
        ["prospect", "new", "loyal", "reactivated", "active", "at_risk"],
        "lapsed",
    )

    def score(values: pd.Series, ascending: bool) -> pd.Series:
        ranks = values.where(buyer).rank(method="first", ascending=ascending)
        return pd.array(np.ceil(5 * ranks / ranks.max()), dtype="Int64")

    f["recency_score"] = score(recency_f, ascending=False)
    f["frequency_score"] = score(pd.Series(orders, dtype=float), ascending=True)
    f["monetary_score"] = score(pd.Series(monetary), ascending=True)
    cell = (
        f["recency_score"].astype("string")
        + f["frequency_score"].astype("string")
        + f["monetary_score"].astype("string")
    )
    f["rfm_cell"] = cell.astype("object").where(buyer, None)
    r, fr = f["recency_score"].fillna(0), f["frequency_score"].fillna(0)
    f["rfm_segment"] = np.select(
        [~buyer, (r >= 4) & (fr >= 4), fr >= 4, (r <= 2) & (fr >= 3), r <= 2],
        ["No purchase", "Champions", "Loyal", "At Risk", "Hibernating"],
        "Need Attention",
    )
    return f


def accepts_marketing(customer_id: str) -> bool | None:
    """The fixture's consent of a customer: a seventh unknown, two sevenths refused."""
    return {0: None, 1: False, 2: False}.get(int(customer_id) % 7, True)


def email(customer_id: str) -> str | None:
    """The fixture's raw email of a customer (none for every eleventh), messy in case and spaces."""
    n = int(customer_id)
    return None if n % 11 == 0 else f" Customer.{n}@Shop{n % 3}.Example.COM "


def customer_segments(features: pd.DataFrame, rng: np.random.Generator, previous: bool):
    """customer_segments of the current run (previous_segment_id from the previous run).

    The audience columns come from the customer id alone (no draw from `rng`): is_holdout by
    the library's rule with the default vars, consent from ``accepts_marketing`` and the
    email hash of ``email``.
    """
    n = len(features)
    segment = features["segment_id"].to_numpy()
    names = {s: name for s, name, _ in SEGMENTS}
    ids = np.array([s for s, _, _ in SEGMENTS])
    distance = np.round(rng.gamma(4.0, 0.5, n), 6)
    second = np.array([rng.choice(ids[ids != s]) for s in segment])
    moved = rng.random(n) < 0.12
    before = np.where(moved, [rng.choice(ids[ids != s]) for s in segment], segment)
    seen_before = previous & (rng.random(n) < 0.9)
    predicted = np.where(rng.random(n) < 0.03, second, segment)
    return pd.DataFrame(
        {
            "customer_id": features["customer_id"],
            "segment_id": segment,
            "segment_name": [names[s] for s in segment],
            "centroid_distance": distance,
            "is_outlier": distance > np.quantile(distance, 0.99),
            "second_segment_id": second,
            "second_centroid_distance": np.round(distance + rng.uniform(0.3, 3.0, n), 6),
            "previous_segment_id": pd.array(np.where(seen_before, before, np.nan), dtype="Int64"),
            "lifecycle_stage": features["lifecycle_stage"],
            "rfm_segment": features["rfm_segment"],
            "run_id": RUN_ID,
            "predicted_segment_id": predicted,
            "predicted_probability": np.round(rng.uniform(0.55, 1.0, n), 6),
            "is_forest_disagreement": predicted != segment,
            "is_holdout": holdout_flags(features["customer_id"]),
            "accepts_marketing": pd.array(
                [accepts_marketing(c) for c in features["customer_id"]], dtype="boolean"
            ),
            "email_sha256": [email_sha256(email(c)) for c in features["customer_id"]],
        }
    )


def k_selection(customers: int, run_id: str, is_current: bool, shift: float) -> pd.DataFrame:
    """The sweep k = 3..6; k = 4 chosen, k = 6 leaves a segment under the minimum share."""
    ks = np.array([3, 4, 5, 6])
    silhouette = np.array([0.312, 0.364, 0.331, 0.345]) + shift
    total = 11.0 * customers
    inertia = total * np.array([0.52, 0.41, 0.36, 0.33])
    between = total - inertia
    elbow = np.full(len(ks), np.nan)
    elbow[1:-1] = inertia[:-2] - 2 * inertia[1:-1] + inertia[2:]
    return pd.DataFrame(
        {
            "run_id": run_id,
            "is_current": is_current,
            "k": ks,
            "silhouette": silhouette,
            "inertia": inertia,
            "between_ss": between,
            "calinski_harabasz": (between / (ks - 1)) / (inertia / (customers - ks)),
            "davies_bouldin": np.array([1.42, 1.18, 1.27, 1.21]) - shift,
            "min_segment_share": np.array([0.21, 0.15, 0.06, 0.0125]),
            "elbow_score": elbow,
            "sample_size": customers,
            "is_chosen": ks == CHOSEN_K,
        }
    )


def feature_profiles(features: pd.DataFrame) -> pd.DataFrame:
    """Per segment and feature: the segment's mean and median against all customers'."""
    rows = []
    for feature in PROFILE_FEATURES:
        values = features[feature].astype("float")
        overall, sd = values.mean(), values.std(ddof=0)
        for segment_id, _, _ in SEGMENTS:
            mine = values[features["segment_id"] == segment_id].dropna()
            mean = mine.mean() if len(mine) else np.nan
            rows.append(
                {
                    "run_id": RUN_ID,
                    "segment_id": segment_id,
                    "feature": feature,
                    "customers_with_value": len(mine),
                    "mean_value": mean,
                    "median_value": mine.median() if len(mine) else np.nan,
                    "overall_mean": overall,
                    "overall_sd": sd,
                    "lift": mean / overall if overall else np.nan,
                    "z_score": (mean - overall) / sd if sd else np.nan,
                }
            )
    return pd.DataFrame(rows)


def profiles(features: pd.DataFrame, by_feature: pd.DataFrame) -> pd.DataFrame:
    """segment_profiles: sizes, revenue, the dominant stage and the strongest features."""
    rows = []
    revenue_all = float(features["monetary"].sum())
    for segment_id, name, _ in SEGMENTS:
        mine = features[features["segment_id"] == segment_id]
        stages = mine["lifecycle_stage"].value_counts()
        z = by_feature[by_feature["segment_id"] == segment_id].dropna(subset=["z_score"])
        top = z.reindex(z["z_score"].abs().sort_values(ascending=False, kind="stable").index)
        row = {
            "run_id": RUN_ID,
            "segment_id": segment_id,
            "segment_name": name,
            "generated_name": name,
            "customers": len(mine),
            "customer_share": len(mine) / len(features),
            "revenue": round(float(mine["monetary"].sum()), 2),
            "revenue_share": float(mine["monetary"].sum()) / revenue_all,
            "dominant_lifecycle_stage": stages.index[0],
            "dominant_lifecycle_stage_share": stages.iloc[0] / len(mine),
        }
        for i in range(3):
            row[f"top_feature_{i + 1}"] = top["feature"].iloc[i]
            row[f"top_feature_{i + 1}_z"] = top["z_score"].iloc[i]
        for column in ("recency_days", "order_count", "monetary", "order_value"):
            source = "avg_order_value" if column == "order_value" else column
            row[f"avg_{column}"] = mine[source].astype("float").mean()
        for column in ("discounted_order_share", "session_count", "product_view_count"):
            row[f"avg_{column}"] = mine[column].astype("float").mean()
        for column in ("tenure_days", "age", "income"):
            row[f"avg_{column}"] = mine[column].astype("float").mean()
        # one segment below shop_min_segment_jaccard (0.6), the others stable
        row["segment_jaccard"] = 0.52 if segment_id == len(SEGMENTS) else 0.97 - 0.03 * segment_id
        row["is_reproducible"] = row["segment_jaccard"] >= 0.6
        risk = CHURN_RISK.get(segment_id, 0.5)
        expected = round(float(mine["monetary"].sum()) * (1 - risk) * 0.8, 2)
        row["expected_revenue"] = expected
        row["mean_p_no_order"] = risk
        row["at_risk_customers"] = round(len(mine) * risk)
        row["at_risk_revenue"] = round(expected * risk, 2)
        rows.append(row)
    return pd.DataFrame(rows)


def prediction_backtest(customers: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """prediction_runs' row and prediction_calibration's deciles: a slightly overconfident model."""
    backtest_customers = int(customers * 0.6)
    per = np.full(10, backtest_customers // 10)
    per[: backtest_customers % 10] += 1
    predicted = np.linspace(0.08, 0.86, 10)
    observed = np.clip(0.5 + 0.85 * (predicted - 0.5), 0, 1)  # shrunk towards the middle
    calibration = pd.DataFrame(
        {
            "run_id": "fixture-backtest",
            "decile": np.arange(1, 11),
            "customers": per,
            "predicted_share": predicted,
            "observed_share": observed.round(4),
            "predicted_orders": (per * predicted * 1.6).round(2),
            "actual_orders": (per * observed * 1.6).round().astype("int64"),
        }
    )
    ordered = float((per * observed).sum() / per.sum())
    predicted_orders = float(calibration["predicted_orders"].sum())
    actual_orders = int(calibration["actual_orders"].sum())
    run = {
        "prediction_run_id": "fixture-predictions",
        "backtest_run_id": "fixture-backtest",
        "status": "ok",
        "as_of_at": AS_OF,
        "calibration_end_at": pd.Timestamp(AS_OF) - pd.Timedelta(days=365),
        "horizon_days": 365,
        "predicted_customers": int(customers * 0.7),
        "backtest_customers": backtest_customers,
        "ordered_again_share": ordered,
        "auc": 0.742,
        "brier": 0.201,
        "predicted_orders": predicted_orders,
        "actual_orders": actual_orders,
        "total_error": predicted_orders / actual_orders - 1,
        "fit_customers": backtest_customers,
    }
    return pd.DataFrame([run]), calibration


def centroids(features: pd.DataFrame, run_id: str, shift: float) -> pd.DataFrame:
    """Segment means of the model features, standardised and original, and missing flags."""
    rows = []
    for feature in MODEL_FEATURES:
        values = features[feature].astype("float")
        missing = values.isna().astype(float)
        for segment_id, _, _ in SEGMENTS:
            mine = features["segment_id"] == segment_id
            mean = values[mine].mean()
            rows.append(
                (run_id, segment_id, feature, (mean - values.mean()) / values.std() + shift, mean)
            )
            if missing.any():
                z = (missing[mine].mean() - missing.mean()) / missing.std()
                rows.append((run_id, segment_id, f"{feature}__missing", z, None))
    columns = ["run_id", "segment_id", "feature", "centroid_standardised", "centroid_original"]
    return pd.DataFrame(rows, columns=columns)


def importance(run_id: str, is_current: bool, shift: float) -> pd.DataFrame:
    """Permutation and impurity importance of the model features (one slightly negative)."""
    means = [0.081, 0.052, 0.044, -0.0015, 0.012, 0.018, 0.009, 0.047, 0.004, 0.014, 0.006]
    impurity = np.array([0.16, 0.18, 0.15, 0.06, 0.05, 0.10, 0.07, 0.09, 0.06, 0.05, 0.03])
    sds = [0.004, 0.003, 0.002, 0.0009, 0.002, 0.0015, 0.0014, 0.005, 0.0004, 0.0018, 0.001]
    medians = [150.0, 1.0, 120.5, 105.3, 0.1, 480.0, 3.0, 4.0, 60.0, 41.0, 52000.0]
    frame = pd.DataFrame(
        {
            "run_id": run_id,
            "is_current": is_current,
            "feature": MODEL_FEATURES,
            "permutation_importance_mean": np.array(means) + shift,
            "permutation_importance_std": sds,
            "impurity_importance": impurity / impurity.sum(),
            "impute_median": medians,
        }
    )
    frame["permutation_rank"] = frame["permutation_importance_mean"].rank(
        ascending=False, method="first"
    )
    frame["impurity_rank"] = frame["impurity_importance"].rank(ascending=False, method="first")
    return frame


def rules(features: pd.DataFrame, previous: bool) -> pd.DataFrame:
    """segment_rules of the current classifier run, supports counted on the customer rows."""
    holdout = features["customer_id"].map(lambda c: int(c) % 4 == 0)
    names = {s: name for s, name, _ in SEGMENTS}
    rows = []
    for rule_id, (segment_id, kind, text, conditions, select) in enumerate(RULES, start=1):
        picked = select(features).fillna(False).astype(bool)
        right = features["segment_id"] == segment_id
        train, test = picked & ~holdout, picked & holdout
        rows.append(
            {
                "run_id": FOREST_RUN_ID,
                "is_current": True,
                "rule_id": rule_id,
                "segment_id": segment_id,
                "segment_name": names[segment_id],
                "rule_kind": kind,
                "rule_text": text,
                "condition_count": conditions,
                "rule_support": int(train.sum()),
                "rule_precision": float((train & right).sum() / max(train.sum(), 1)),
                "holdout_support": int(test.sum()),
                "holdout_precision": float((test & right).sum() / max(test.sum(), 1)),
            }
        )
    if previous:  # the previous classifier's rules: published, never shown
        for rule_id, segment_id in ((1, 1), (2, 3)):
            rows.append(
                rows[0]
                | {
                    "run_id": PREVIOUS_FOREST_RUN_ID,
                    "is_current": False,
                    "rule_id": rule_id,
                    "segment_id": segment_id,
                    "segment_name": names[segment_id],
                    "rule_text": "previous run's rule",
                }
            )
    return pd.DataFrame(rows)


def category_purchases(features: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """What each buyer bought: one row per customer and category, with the spend in cents.

    A buyer bought their favourite_category (the largest part of their spend) and
    min(distinct_categories, 6) - 1 other categories, drawn with the segment's CATEGORY_TASTE;
    the parts of monetary add up to it to the cent.
    """
    rows = []
    for r in features[features["order_count"] > 0].itertuples(index=False):
        taste = CATEGORY_TASTE.get(int(r.segment_id), {})
        others = [c for c in CATEGORIES if c != r.favourite_category]
        weights = np.array([taste.get(c, 1.0) for c in others])
        count = min(int(r.distinct_categories), len(CATEGORIES)) - 1
        extra = rng.choice(others, count, replace=False, p=weights / weights.sum())
        picked = [str(r.favourite_category), *(str(c) for c in extra)]
        split = np.sort(rng.dirichlet(np.ones(len(picked))))[::-1]
        cents = round(float(r.monetary) * 100)
        parts = np.floor(split * cents).astype(int)
        parts[0] += cents - parts.sum()
        rows += [
            (r.customer_id, int(r.segment_id), c, int(p))
            for c, p in zip(picked, parts, strict=True)
        ]
    return pd.DataFrame(rows, columns=["customer_id", "segment_id", "category", "cents"])


def category_affinity(segments: pd.DataFrame, purchases: pd.DataFrame) -> pd.DataFrame:
    """segment_category_affinity computed as the mart does, from the customers' purchases."""
    all_customers = len(segments)
    buyers = purchases.groupby("category")["customer_id"].nunique()
    rows = []
    for (segment_id, name), size in segments.groupby(["segment_id", "segment_name"]).size().items():
        mine = purchases[purchases["segment_id"] == segment_id]
        spent = int(mine["cents"].sum())
        for category, overall in buyers.items():
            bought = mine[mine["category"] == category]
            customers, cents = bought["customer_id"].nunique(), int(bought["cents"].sum())
            rows.append(
                {
                    "run_id": RUN_ID,
                    "segment_id": segment_id,
                    "segment_name": name,
                    "category": category,
                    "customers": customers,
                    "segment_customers": size,
                    "revenue": cents / 100,
                    "revenue_share": cents / spent if spent else None,
                    "customer_share": customers / size,
                    "overall_customer_share": overall / all_customers,
                    "lift": customers * all_customers / (size * overall),
                    "pearson_residual": (customers * all_customers - size * overall)
                    / np.sqrt(size * overall * all_customers),
                }
            )
    frame = pd.DataFrame(rows)
    frame["is_notable"] = (frame["pearson_residual"].abs() > AFFINITY_MIN_RESIDUAL) & (
        frame["customers"] >= AFFINITY_MIN_CUSTOMERS
    )
    ranked = frame.sort_values(
        ["segment_id", "lift", "customers", "category"],
        ascending=[True, False, False, True],
        kind="stable",
    )
    frame["affinity_rank"] = ranked.groupby("segment_id").cumcount().reindex(frame.index) + 1
    return frame


def memberships(
    segments: pd.DataFrame, previous: bool, rng: np.random.Generator
) -> list[tuple[int, str, datetime, pd.Series]]:
    """(build_seq, run_id, as_of_at, segment_id by customer_id) of each stored build.

    Without `previous`, the one current build. With it, three: the previous model's first
    build, its score-only rebuild BUILD_GAP_DAYS later (whose segments are
    customer_segments.previous_segment_id, plus customers no longer in the data) and the
    current run's build; some customers of the first build are gone by the second, some of
    the second are new in it, and some moved between them.
    """
    current = segments.set_index("customer_id")["segment_id"].astype("int64")
    if not previous:
        return [(1, RUN_ID, AS_OF, current)]
    ids = np.array([s for s, _, _ in SEGMENTS])
    n = len(segments)
    seen = segments[segments["previous_segment_id"].notna()]
    gone = [str(n + i) for i in range(1, round(0.05 * n) + 1)]
    second = pd.concat(
        [
            seen.set_index("customer_id")["previous_segment_id"].astype("int64"),
            pd.Series(rng.choice(ids, len(gone)), index=gone, dtype="int64"),
        ]
    )
    stayed = second[rng.random(len(second)) >= 0.1]  # the others are new in the second build
    moved = rng.random(len(stayed)) < 0.08
    first = stayed.copy()
    first[moved] = [rng.choice(ids[ids != s]) for s in stayed[moved]]
    left_early = [str(n + len(gone) + i) for i in range(1, round(0.03 * n) + 1)]
    first = pd.concat([first, pd.Series(rng.choice(ids, len(left_early)), index=left_early)])
    gap = pd.Timedelta(days=BUILD_GAP_DAYS)
    return [
        (1, PREVIOUS_RUN_ID, AS_OF - 2 * gap, first.astype("int64")),
        (2, PREVIOUS_RUN_ID, AS_OF - gap, second),
        (3, RUN_ID, AS_OF, current),
    ]


def segment_history(
    builds: list[tuple[int, str, datetime, pd.Series]],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """customer_segment_history and segment_transitions of the builds, as the marts derive them.

    Each build pairs its customers' segments with the previous build's (a full outer join:
    null before for new customers, null after for those no longer in the data); a version
    starts where the segment changed and lasts until the customer's next one.
    """
    names = {s: name for s, name, _ in SEGMENTS}
    changes, transitions = [], []
    before = pd.Series(dtype="int64")
    for build_seq, run_id, as_of, after in builds:
        paired = pd.concat(
            [before.rename("from_segment_id"), after.rename("to_segment_id")], axis=1
        )
        paired = paired.astype("Int64").rename_axis("customer_id").reset_index()
        counted = (
            paired.groupby(["from_segment_id", "to_segment_id"], dropna=False)
            .size()
            .rename("customers")
            .reset_index()
        )
        frm, to = counted["from_segment_id"], counted["to_segment_id"]
        counted["is_move"] = (frm.notna() & to.notna() & (frm != to)).fillna(False).astype(bool)
        transitions.append(counted.assign(build_seq=build_seq, run_id=run_id, as_of_at=as_of))
        changed = paired["from_segment_id"].isna() | paired["to_segment_id"].isna()
        changed |= (paired["from_segment_id"] != paired["to_segment_id"]).fillna(False)
        changes.append(
            paired.loc[changed, ["customer_id", "to_segment_id"]]
            .rename(columns={"to_segment_id": "segment_id"})
            .assign(run_id=run_id, build_seq=build_seq, valid_from=as_of)
        )
        before = after
    moves = pd.concat(transitions, ignore_index=True)
    for side in ("from", "to"):
        moves[f"{side}_segment_name"] = moves[f"{side}_segment_id"].map(names)
    versions = pd.concat(changes, ignore_index=True).sort_values(["customer_id", "build_seq"])
    following = versions.groupby("customer_id")["valid_from"].shift(-1)
    versions["valid_to"] = following
    versions["is_current"] = following.isna()
    versions = versions[versions["segment_id"].notna()].copy()
    versions["segment_name"] = versions["segment_id"].map(names)
    return versions.reset_index(drop=True), moves


def _config(features: tuple[str, ...]) -> str:
    return json.dumps(
        {
            "algorithm": "kmeans",
            "features": list(features),
            "k": None,
            "k_max": 6,
            "k_min": 3,
            "min_segment_share": MIN_SEGMENT_SHARE,
            "n_init": 4,
            "outlier_quantile": 0.99,
            "random_state": 42,
            "skew_threshold": 1.0,
            "winsor_quantile": 0.01,
        },
        sort_keys=True,
    )


def build(
    path: str | Path, customers: int = CUSTOMERS, previous: bool = True, seed: int = 7
) -> Path:
    """Write the fixture's published file at `path` (replaced when it exists); return the path.

    `previous` adds an earlier run: the current run then has a migration matrix, a stability
    ARI and previous_segment_id, and every table that keeps history holds a non-current run.
    """
    rng = np.random.default_rng(seed)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    features = customer_features(customers, rng)
    segments = customer_segments(features, rng, previous)
    sweep = k_selection(customers, RUN_ID, True, 0.0)
    chosen = sweep[sweep["is_chosen"]].iloc[0]
    by_feature = feature_profiles(features)
    common = segments["previous_segment_id"].notna()
    kept = (segments["previous_segment_id"] == segments["segment_id"])[common]
    run = {
        "run_id": RUN_ID,
        "run_seq": 2 if previous else 1,
        "is_current": True,
        "as_of_at": AS_OF,
        "algorithm": "kmeans",
        "fit_customers": customers,
        "customers": customers,
        "outlier_customers": int(segments["is_outlier"].sum()),
        "k": CHOSEN_K,
        "silhouette": chosen["silhouette"],
        "bootstrap_stability": 0.912,
        "inertia": chosen["inertia"],
        "fit_sample_size": customers,
        "k_rule": "best silhouette among k meeting shop_min_segment_share",
        "status": "ok",
        "features_used": json.dumps(list(MODEL_FEATURES)),
        "features_dropped": "[]",
        "previous_run_id": PREVIOUS_RUN_ID if previous else None,
        "stability_common_customers": int(common.sum()) if previous else None,
        "stability_ari": round(0.55 + 0.4 * float(kept.mean()), 6) if previous else None,
    }
    version = {
        "run_id": RUN_ID,
        "run_seq": run["run_seq"],
        "is_current": True,
        "previous_run_id": run["previous_run_id"],
        "k": CHOSEN_K,
        "max_segment_id": len(SEGMENTS),
        "features_used": run["features_used"],
        "config": _config(MODEL_FEATURES),
        "library_versions": json.dumps({"shopseg": "0.1.0", "scikit-learn": "1.9.1"}),
    }
    runs, versions = [run], [version]
    sweeps = [sweep]
    centres = [centroids(features, RUN_ID, 0.0)]
    importances = [importance(FOREST_RUN_ID, True, 0.0)]
    if previous:
        earlier = {"run_id": PREVIOUS_RUN_ID, "run_seq": 1, "is_current": False}
        none = {"previous_run_id": None, "stability_common_customers": None}
        runs.insert(
            0,
            run
            | earlier
            | none
            | {"stability_ari": None, "silhouette": 0.351, "bootstrap_stability": 0.884},
        )
        versions.insert(0, version | earlier | {"previous_run_id": None})
        sweeps.insert(0, k_selection(customers, PREVIOUS_RUN_ID, False, -0.013))
        centres.insert(0, centroids(features, PREVIOUS_RUN_ID, 0.05))
        importances.insert(0, importance(PREVIOUS_FOREST_RUN_ID, False, 0.002))
    migration = (
        segments[common]
        .groupby(["previous_segment_id", "segment_id"], as_index=False)
        .size()
        .rename(
            columns={
                "previous_segment_id": "from_segment_id",
                "segment_id": "to_segment_id",
                "size": "customers",
            }
        )
        .assign(previous_run_id=PREVIOUS_RUN_ID, run_id=RUN_ID)
    )
    issues = pd.DataFrame(
        [
            ("orders", "order_id missing", "excluded", 0),
            ("orders", "order_total negative", "excluded", 3),
            ("orders", "customer not in customers", "kept, customer created", 11),
            ("customers", "income negative", "repaired, set to null", 2),
            ("events", "customer_id missing (anonymous)", "excluded", 17),
            ("events", "session_id missing", "repaired, sessions rebuilt from inactivity gaps", 90),
        ],
        columns=["table_name", "problem", "handling", "rows_affected"],
    )
    prediction_runs, calibration = prediction_backtest(customers)
    # drawn after everything above, from a generator of their own, so that adding them
    # changed none of the other tables
    extra = np.random.default_rng([seed, 1])
    history, transitions = segment_history(memberships(segments, previous, extra))
    affinity = category_affinity(segments, category_purchases(features, extra))
    frames = {
        "customer_features": features.drop(columns="segment_id"),
        "customer_segments": segments,
        "segmentation_runs": pd.DataFrame(runs),
        "segment_model_versions": pd.DataFrame(versions),
        "segment_centroids": pd.concat(centres, ignore_index=True),
        "segment_k_selection": pd.concat(sweeps, ignore_index=True),
        "segment_migration": migration,
        "customer_segment_history": history,
        "segment_transitions": transitions,
        "segment_category_affinity": affinity,
        "segment_profiles": profiles(features, by_feature),
        "segment_feature_profiles": by_feature,
        "segment_feature_importance": pd.concat(importances, ignore_index=True),
        "segment_rules": rules(features, previous),
        "data_quality_issues": issues,
        "prediction_runs": prediction_runs,
        "prediction_calibration": calibration,
    }
    con = duckdb.connect(str(path))
    try:
        for name, columns in TABLES.items():
            con.execute(f"create table {name} ({' '.join(columns.split())})")
            frame = frames[name]
            con.register("incoming", frame)
            con.execute(f"insert into {name} by name select * from incoming")
            con.unregister("incoming")
        con.execute("checkpoint")
    finally:
        con.close()
    return path
