"""Naive pandas + scikit-learn segmentation, the yardstick `python -m bench` compares dbt with.

Written the way a tutorial does it (features in pandas, StandardScaler, an elbow loop of
KMeans over every row, a final KMeans on every row, then a RandomForest that learns the
labels), but over the same kinds of features as shopseg's `customer_features`. Run it from
the repository root as `python -m bench.baseline --input DIR`: it prints one JSON line with
per-stage seconds.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import silhouette_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

FEATURES: tuple[str, ...] = (
    "recency_days",
    "order_count",
    "monetary",
    "avg_order_value",
    "discounted_order_share",
    "return_rate",
    "tenure_days",
    "session_count",
    "product_view_count",
    "cart_add_count",
    "days_since_last_visit",
    "age",
    "income",
)
COUNT_FEATURES = (
    "order_count",
    "monetary",
    "session_count",
    "product_view_count",
    "cart_add_count",
)
STAGES = ("load", "features", "sweep", "final_fit", "forest")
SESSION_GAP = pd.Timedelta(minutes=30)
MIN_AGE, MAX_AGE = 14, 110
T = TypeVar("T")
NO_EVENTS = pd.DataFrame(
    {
        "event_id": pd.Series(dtype="int64"),
        "customer_id": pd.Series(dtype="int64"),
        "session_id": pd.Series(dtype="object"),
        "event_type": pd.Series(dtype="object"),
        "occurred_at": pd.Series(dtype="datetime64[us]"),
    }
)


def load_tables(input_dir: str | Path) -> dict[str, pd.DataFrame]:
    """Read the customers, orders and events parquet files of a shop folder."""
    folder = Path(input_dir)
    events = folder / "events.parquet"  # a shop without events: no sessions, views, cart adds
    return {
        "customers": pd.read_parquet(folder / "customers.parquet"),
        "orders": pd.read_parquet(folder / "orders.parquet"),
        "events": pd.read_parquet(events) if events.exists() else NO_EVENTS.copy(),
    }


def _days(later: pd.Timestamp, earlier: pd.Series) -> pd.Series:
    """Calendar days between timestamps (date boundaries crossed, as dbt.datediff counts)."""
    return (later.normalize() - earlier.dt.normalize()).dt.days


def order_features(orders: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """RFM, average order value, discount share and return rate per customer."""
    orders = orders.sort_values("ordered_at").drop_duplicates("order_id")
    orders = orders[
        orders["customer_id"].notna()
        & (orders["ordered_at"] <= as_of)
        & (orders["order_total"] >= 0)
    ].copy()
    status = orders["status"].astype("object").fillna("completed").str.strip().str.lower()
    orders["completed"] = status == "completed"
    orders["returned"] = status == "returned"
    orders["discounted"] = orders["discount_amount"].fillna(0) > 0
    done = orders[orders["completed"]]
    per = done.groupby("customer_id").agg(
        order_count=("order_id", "count"),
        monetary=("order_total", "sum"),
        last_order_at=("ordered_at", "max"),
        discounted_orders=("discounted", "sum"),
    )
    per["recency_days"] = _days(as_of, per["last_order_at"])
    per["avg_order_value"] = per["monetary"] / per["order_count"]
    per["discounted_order_share"] = per["discounted_orders"] / per["order_count"]
    returns = orders.groupby("customer_id")["returned"].sum().rename("returned_orders")
    out = returns.to_frame().join(per, how="left")
    out["order_count"] = out["order_count"].fillna(0)
    out["monetary"] = out["monetary"].fillna(0.0)
    denominator = out["order_count"] + out["returned_orders"]
    out["return_rate"] = (out["returned_orders"] / denominator).where(denominator > 0)
    columns = [
        "recency_days",
        "order_count",
        "monetary",
        "avg_order_value",
        "discounted_order_share",
        "return_rate",
    ]
    return out[columns]


def customer_features(customers: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """Tenure, age and income per registered customer (earliest sign-up wins)."""
    customers = customers[customers["customer_id"].notna()]
    customers = customers.sort_values("signup_at").drop_duplicates("customer_id")
    customers = customers.set_index("customer_id")
    tenure = _days(as_of, customers["signup_at"]).where(customers["signup_at"] <= as_of)
    age = as_of.year - customers["birth_year"].astype("float64")
    return pd.DataFrame(
        {
            "tenure_days": tenure,
            "age": age.where(age.between(MIN_AGE, MAX_AGE)),
            "income": customers["income"].where(customers["income"] >= 0),
        }
    )


def event_features(events: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """Sessions (session_id, else 30-minute gaps), product views, cart adds, last visit."""
    events = events[events["customer_id"].notna() & (events["occurred_at"] <= as_of)].copy()
    events["customer_id"] = events["customer_id"].astype("int64")
    no_id = events[events["session_id"].isna()].sort_values(
        ["customer_id", "occurred_at", "event_id"]
    )
    gap = no_id.groupby("customer_id")["occurred_at"].diff()
    starts = (gap.isna() | (gap > SESSION_GAP)).astype("int64")
    number = starts.groupby(no_id["customer_id"]).cumsum()
    rebuilt = "gap-" + no_id["customer_id"].astype(str) + "-" + number.astype(str)
    given = "id-" + events["session_id"].dropna().astype(str)
    events["session_key"] = pd.concat([given, rebuilt])
    event_type = events["event_type"].astype("object").str.strip().str.lower()
    events["is_product_view"] = event_type == "product_view"
    events["is_cart_add"] = event_type == "add_to_cart"
    per = events.groupby("customer_id").agg(
        session_count=("session_key", "nunique"),
        product_view_count=("is_product_view", "sum"),
        cart_add_count=("is_cart_add", "sum"),
        last_visit_at=("occurred_at", "max"),
    )
    per["days_since_last_visit"] = _days(as_of, per["last_visit_at"])
    return per.drop(columns="last_visit_at")


def build_features(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per customer seen anywhere, with the 13 default shopseg features."""
    orders, customers, events = tables["orders"], tables["customers"], tables["events"]
    as_of = pd.concat([orders["ordered_at"], events["occurred_at"]]).max()
    frame = (
        customer_features(customers, as_of)
        .join(order_features(orders, as_of), how="outer")
        .join(event_features(events, as_of), how="outer")
    )
    frame.index = frame.index.astype("int64")
    frame.index.name = "customer_id"
    for name in COUNT_FEATURES:
        frame[name] = frame[name].fillna(0)
    return frame[list(FEATURES)].astype("float64").sort_index()


def scale(features: pd.DataFrame) -> np.ndarray:
    """Impute missing values with the median and standardise every column (all-null dropped)."""
    features = features.dropna(axis="columns", how="all")  # e.g. last visit without events
    return StandardScaler().fit_transform(features.fillna(features.median()))


def sweep(x: np.ndarray, k_values: range, random_state: int, n_init: int) -> list[dict]:
    """Elbow loop: K-means on every row for each k, with inertia and sampled silhouette."""
    rows = []
    for k in k_values:
        model = KMeans(n_clusters=k, init="k-means++", n_init=n_init, random_state=random_state)
        labels = model.fit_predict(x)
        sample = min(10_000, len(x))
        silhouette = silhouette_score(x, labels, sample_size=sample, random_state=random_state)
        rows.append({"k": k, "inertia": float(model.inertia_), "silhouette": float(silhouette)})
    return rows


def fit_forest(x: np.ndarray, labels: np.ndarray, random_state: int) -> float:
    """Train a RandomForest on 80% to predict the segment labels; accuracy on the other 20%."""
    x_train, x_test, y_train, y_test = train_test_split(
        x, labels, test_size=0.2, random_state=random_state
    )
    forest = RandomForestClassifier(n_estimators=100, random_state=random_state)
    forest.fit(x_train, y_train)
    return float(forest.score(x_test, y_test))


def run(
    input_dir: str | Path,
    k_values: range = range(3, 9),
    random_state: int = 42,
    n_init: int = 4,
    stages: dict[str, float] | None = None,
    started_at: dict[str, float] | None = None,
) -> dict[str, Any]:
    """Run every stage on a shop folder; each stage's seconds and epoch start are recorded."""
    times = stages if stages is not None else {}
    starts = started_at if started_at is not None else {}

    def timed(name: str, step: Callable[[], T]) -> T:
        starts[name] = time.time()
        started = time.perf_counter()
        value = step()
        times[name] = time.perf_counter() - started
        return value

    tables = timed("load", lambda: load_tables(input_dir))
    x = timed("features", lambda: scale(build_features(tables)))
    tables.clear()  # free the raw tables before the K-means stages
    k_sweep = timed("sweep", lambda: sweep(x, k_values, random_state, n_init))
    best = max(k_sweep, key=lambda row: (row["silhouette"], -row["k"]))
    final = KMeans(n_clusters=best["k"], init="k-means++", n_init=n_init, random_state=random_state)
    labels = timed("final_fit", lambda: final.fit_predict(x))
    accuracy = timed("forest", lambda: fit_forest(x, labels, random_state))
    return {
        "status": "ok",
        "customers": len(x),
        "k": best["k"],
        "silhouette": best["silhouette"],
        "forest_accuracy": accuracy,
        "k_sweep": k_sweep,
        "stages": times,
        "stage_started_at": starts,
    }


def main(argv: list[str] | None = None) -> int:
    """Command line entry point: run the baseline and print one JSON line of results."""
    parser = argparse.ArgumentParser(prog="python -m bench.baseline", description=__doc__)
    parser.add_argument("--input", type=Path, required=True, help="shop folder of parquet files")
    parser.add_argument("--k-min", type=int, default=3)
    parser.add_argument("--k-max", type=int, default=8)
    parser.add_argument("--random-state", type=int, default=42)
    parser.add_argument("--n-init", type=int, default=4)
    args = parser.parse_args(argv)
    stages: dict[str, float] = {}
    starts: dict[str, float] = {}
    ks = range(args.k_min, args.k_max + 1)
    try:
        result = run(args.input, ks, args.random_state, args.n_init, stages, starts)
    except MemoryError:
        failed = next((s for s in STAGES if s not in stages), "unknown")
        report = {"status": "memory_error", "stage": failed, "stages": stages}
        print(json.dumps(report | {"stage_started_at": {k: starts[k] for k in stages}}))
        return 3
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
