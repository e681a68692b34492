"""Never a green build with a wrong answer: real `dbt build` runs on small shops.

- The model store advances only with a build that passed every gate: a failed build's
  candidate model never becomes the one the next build aligns its ids to, and previous
  segments, segment_migration and the stability ARI compare with the last promoted build.
- A gate var reaches SQL only as a checked number: text such as '0.99 and false' stops the
  build in one line instead of switching the gate off.
- A shop of more than shop_fallback_max_customers customers that falls back to one segment
  fails a gate, with the reason logged, unless shop_allow_fallback says so.
- One thread or four, the published tables are the same bytes.

Like tests/python/test_bad_input.py, the builds leave out dbt unit tests and the classifier's
quality floors (they judge how learnable 300-customer segments are, not what is tested here).
"""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from conftest import DbtResult, connect_warehouse, dbt_env, failed_tests, run_dbt

from shopseg import demo

pytestmark = pytest.mark.e2e

BUILD = ["build", "--exclude-resource-type", "unit_test"]
VARS = {"shop_min_classifier_f1": 0, "shop_min_rule_fidelity": 0}
UNREACHABLE = {"shop_min_silhouette": 0.99}  # fails the silhouette gate of any real shop
SEGMENTS = "select customer_id, segment_id, segment_name from customer_segments order by 1"


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 300-customer demo shop."""
    folder = tmp_path_factory.mktemp("shop")
    demo.write(demo.generate(customers=300), folder)
    return folder


def statuses(result: DbtResult) -> dict[str, str]:
    """Status per node name (models, tests) of a dbt invocation."""
    return {uid.split(".")[2]: status for uid, status in result.results().items()}


def current_run(result: DbtResult) -> pd.Series:
    return result.query("select * from segmentation_runs where is_current").iloc[0]


# --- the model store advances only with a build that passed every gate -----------------


@pytest.fixture(scope="module")
def store_builds(shop: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    """One warehouse through six invocations, with what each left behind:

    1. a first build that fails the silhouette gate (nothing was ever promoted);
    2. shop_k 4, which passes;
    3. a build that fails the silhouette gate (it fits and stores a candidate);
    4. `dbt run` with shop_k 6, which runs no gate;
    5. shop_k 4 again, which passes;
    6. shop_k 5, which passes with a new model.
    """
    work = tmp_path_factory.mktemp("store")
    steps = [
        ("first_failed", BUILD, UNREACHABLE),
        ("k4", BUILD, {"shop_k": 4}),
        ("failed", BUILD, UNREACHABLE),
        ("run_k6", ["run"], {"shop_k": 6}),
        ("k4_again", BUILD, {"shop_k": 4}),
        ("k5", BUILD, {"shop_k": 5}),
    ]
    out = {}
    for name, args, dbt_vars in steps:
        result = run_dbt(args, work, shop, VARS | dbt_vars)
        con = connect_warehouse(result.db_path)
        try:
            tables = {
                t for (t,) in con.execute("select table_name from duckdb_tables()").fetchall()
            }
            read = {
                table: con.execute(f"select * from {table} order by all").df()
                for table in (
                    "segment_model_promotions",
                    "segment_promoted_assignments",
                    "segmentation_runs",
                    "segment_migration",
                    "customer_segments",
                    "segment_model_versions",
                    "customer_segment_history",
                    "segment_transitions",
                )
                if table in tables
            }
        finally:
            con.close()
        # run_results.json is the last invocation's: read what this one left now
        state = {"statuses": statuses(result), "failed": failed_tests(result)}
        out[name] = {"result": result, **state, **read}
    return out


def test_a_failed_first_build_promotes_nothing(store_builds: dict[str, dict]) -> None:
    failed = store_builds["first_failed"]
    result = failed["result"]
    assert not result.ok
    assert "value_at_least_segmentation_runs_silhouette" in failed["failed"], result.output[-3000:]
    state = failed["statuses"]
    assert state["segment_model_promotions"] == "skipped"
    assert state["segment_promoted_assignments"] == "skipped"
    assert "segment_model_promotions" not in failed

    # the next build starts from nothing: its candidate is gone, ids start at 1
    k4 = store_builds["k4"]
    assert k4["result"].ok, k4["result"].output[-3000:]
    runs = k4["segmentation_runs"]
    assert list(runs["run_seq"]) == [1] and runs["previous_run_id"].isna().all()
    assert runs["stability_ari"].isna().all() and k4["segment_migration"].empty
    assert set(k4["customer_segments"]["segment_id"]) == {1, 2, 3, 4}
    assert k4["customer_segments"]["previous_segment_id"].isna().all()
    promotions = k4["segment_model_promotions"]
    assert list(promotions["promotion_seq"]) == [1]
    assert list(promotions["run_id"]) == list(runs["run_id"])
    promoted = k4["segment_promoted_assignments"]
    assert set(promoted["run_id"]) == set(runs["run_id"])
    assert len(promoted) == len(k4["customer_segments"])


def test_a_failed_build_leaves_the_promoted_state_alone(store_builds: dict[str, dict]) -> None:
    k4, failed = store_builds["k4"], store_builds["failed"]
    assert not failed["result"].ok
    assert "value_at_least_segmentation_runs_silhouette" in failed["failed"]
    assert failed["statuses"]["segment_model_promotions"] == "skipped"
    # it did fit and store a candidate (the build warehouse shows it for diagnosis) ...
    candidate = current_run(failed["result"])
    assert candidate["run_id"] != k4["segmentation_runs"]["run_id"].iloc[0]
    # ... but nothing it promotes
    pd.testing.assert_frame_equal(
        failed["segment_model_promotions"], k4["segment_model_promotions"]
    )
    pd.testing.assert_frame_equal(
        failed["segment_promoted_assignments"], k4["segment_promoted_assignments"]
    )


def test_dbt_run_promotes_nothing(store_builds: dict[str, dict]) -> None:
    k4, run = store_builds["k4"], store_builds["run_k6"]
    assert run["result"].ok, run["result"].output[-3000:]
    assert "shopseg: dbt run runs no gate first: the model stores are not promoted" in (
        run["result"].output
    )
    pd.testing.assert_frame_equal(run["segment_model_promotions"], k4["segment_model_promotions"])
    pd.testing.assert_frame_equal(
        run["segment_promoted_assignments"], k4["segment_promoted_assignments"]
    )


def test_earlier_settings_after_failures_give_the_earlier_ids_back(
    store_builds: dict[str, dict],
) -> None:
    k4, again = store_builds["k4"], store_builds["k4_again"]
    assert again["result"].ok, again["result"].output[-3000:]
    first_run = k4["segmentation_runs"]["run_id"].iloc[0]
    # the same model: the failed build's and the run's candidates were discarded
    runs = again["segmentation_runs"]
    assert list(runs["run_id"]) == [first_run] and list(runs["run_seq"]) == [1]
    assert list(again["segment_model_versions"]["run_id"]) == [first_run]
    # the same segments under the same ids and names, compared with the promoted build
    pd.testing.assert_frame_equal(
        k4["customer_segments"][["customer_id", "segment_id", "segment_name"]],
        again["customer_segments"][["customer_id", "segment_id", "segment_name"]],
    )
    segments = again["customer_segments"]
    assert (segments["previous_segment_id"] == segments["segment_id"]).all()
    assert runs["stability_ari"].iloc[0] == 1.0
    migration = again["segment_migration"]
    assert set(migration["previous_run_id"]) == {first_run}
    assert (migration["from_segment_id"] == migration["to_segment_id"]).all()
    assert migration["customers"].sum() == len(segments)
    assert list(again["segment_model_promotions"]["promotion_seq"]) == [1, 2]


def test_a_new_model_is_aligned_to_the_last_promoted_one(store_builds: dict[str, dict]) -> None:
    k4, k5 = store_builds["k4"], store_builds["k5"]
    assert k5["result"].ok, k5["result"].output[-3000:]
    first_run = k4["segmentation_runs"]["run_id"].iloc[0]
    runs = k5["segmentation_runs"].sort_values("run_seq")  # read in run-id order
    current = runs[runs["is_current"]].iloc[0]
    assert list(runs["run_seq"]) == [1, 2] and list(runs["is_current"]) == [False, True]
    assert current["previous_run_id"] == first_run and current["k"] == 5
    # new ids continue after the promoted lineage's highest id (4), not after a candidate's
    versions = k5["segment_model_versions"].set_index("run_id")
    assert versions.loc[first_run, "max_segment_id"] == 4
    new_ids = sorted(set(k5["customer_segments"]["segment_id"]) - {1, 2, 3, 4})
    assert new_ids and new_ids == list(range(5, 5 + len(new_ids)))
    assert set(k5["segment_migration"]["previous_run_id"]) == {first_run}
    assert k5["customer_segments"]["previous_segment_id"].isin([1, 2, 3, 4]).all()


# --- the membership history grows with the promoted builds only ----------------------------

STEPS = ["first_failed", "k4", "failed", "run_k6", "k4_again", "k5"]
HISTORY = ["customer_id", "segment_id", "segment_name", "run_id", "build_seq", "valid_from"]


def promoted_steps(store_builds: dict[str, dict]) -> list[str]:
    """The steps that added a segment_model_promotions row, in order."""
    names, seen = [], 0
    for name in STEPS:
        rows = len(store_builds[name].get("segment_model_promotions", ()))
        if rows > seen:
            names.append(name)
        seen = rows
    return names


def rows(frame: pd.DataFrame, columns: list[str]) -> list[tuple]:
    """The frame's rows as sorted tuples, every missing value (NaN, NA, NaT) as None."""
    values = frame[columns].astype(object)
    values = values.where(values.notna(), None)
    return sorted(
        (tuple(row) for row in values.itertuples(index=False)),
        key=lambda row: tuple((value is None, str(value)) for value in row),
    )


def expected_history(store_builds: dict[str, dict]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Versions and transitions computed here from the promoted builds' customer_segments."""
    current: dict[str, int] = {}
    versions, transitions = [], []
    for build_seq, name in enumerate(promoted_steps(store_builds), start=1):
        step = store_builds[name]
        promotion = step["segment_model_promotions"].sort_values("promotion_seq").iloc[-1]
        segments = step["customer_segments"]
        now = dict(zip(segments["customer_id"], segments["segment_id"], strict=True))
        names = dict(zip(segments["customer_id"], segments["segment_name"], strict=True))
        for customer in sorted(set(current) | set(now)):
            before, after = current.get(customer), now.get(customer)
            transitions.append((build_seq, before, after))
            if before != after:
                versions.append(
                    (customer, after, names.get(customer), promotion["run_id"], build_seq)
                    + (promotion["as_of_at"],)
                )
        current = now
    versions_frame = pd.DataFrame(versions, columns=HISTORY)
    chain = versions_frame.groupby("customer_id")["valid_from"].shift(-1)
    versions_frame["valid_to"] = chain
    versions_frame["is_current"] = (
        versions_frame.groupby("customer_id")["build_seq"].shift(-1).isna()
    )
    versions_frame = versions_frame[versions_frame["segment_id"].notna()]
    moves = (
        pd.DataFrame(transitions, columns=["build_seq", "from_segment_id", "to_segment_id"])
        .value_counts(dropna=False)
        .rename("customers")
        .reset_index()
    )
    return versions_frame, moves


def test_the_history_holds_one_version_per_change_of_the_promoted_builds(
    store_builds: dict[str, dict],
) -> None:
    assert promoted_steps(store_builds) == ["k4", "k4_again", "k5"]
    want, _ = expected_history(store_builds)
    got = store_builds["k5"]["customer_segment_history"]
    columns = [*HISTORY, "valid_to", "is_current"]
    assert rows(got, columns) == rows(want, columns)
    # k4 again changed nothing; k5 moved some customers, each then has two versions
    assert set(got["build_seq"]) == {1, 3}
    assert got.groupby("customer_id")["is_current"].sum().eq(1).all()
    assert len(got[got["is_current"]]) == len(store_builds["k5"]["customer_segments"])


def test_a_failed_build_or_dbt_run_adds_nothing_to_the_history(
    store_builds: dict[str, dict],
) -> None:
    assert "customer_segment_history" not in store_builds["first_failed"]
    assert store_builds["failed"]["statuses"]["customer_segment_history"] == "skipped"
    for before, after in (("k4", "failed"), ("failed", "run_k6")):
        for table in ("customer_segment_history", "segment_transitions"):
            pd.testing.assert_frame_equal(store_builds[before][table], store_builds[after][table])


def test_the_transitions_count_the_customers_between_promoted_builds(
    store_builds: dict[str, dict],
) -> None:
    _, want = expected_history(store_builds)
    got = store_builds["k5"]["segment_transitions"]
    columns = ["build_seq", "from_segment_id", "to_segment_id", "customers"]
    assert rows(got, columns) == rows(want, columns)
    moves = got["from_segment_id"].notna() & (got["from_segment_id"] != got["to_segment_id"])
    assert (got["is_move"] == moves).all()
    # the first build: everyone is new; k4 again: everyone stayed
    first, second = got[got["build_seq"] == 1], got[got["build_seq"] == 2]
    assert first["from_segment_id"].isna().all() and not second["is_move"].any()
    assert got[got["build_seq"] == 3]["is_move"].any()


def test_mf_moves_between_segments_per_build_match_the_transitions(
    store_builds: dict[str, dict], tmp_path: Path
) -> None:
    # mf opens the warehouse read-write and reads <project>/target: a copy and a folder of its own
    result = store_builds["k5"]["result"]
    db_path = tmp_path / result.db_path.name  # same name: DuckDB views name their catalog so
    shutil.copy(result.db_path, db_path)
    root = tmp_path / "project"
    (root / "target").mkdir(parents=True)
    (root / "dbt_project.yml").symlink_to(Path(__file__).resolve().parents[2] / "dbt_project.yml")
    shutil.copy(result.target_path / "semantic_manifest.json", root / "target")
    env = dbt_env(tmp_path, None, db_path.name, env={"DBT_PROJECT_DIR": str(root)})
    env.pop("SHOPSEG_TARGET", None)
    out = tmp_path / "moves.csv"
    proc = subprocess.run(
        [str(Path(sys.executable).with_name("mf")), "query", "--metrics", "shopseg_segment_moves"]
        + ["--group-by", "shopseg_transition__build_seq", "--csv", str(out), "--quiet"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0 and out.exists(), (proc.stdout + proc.stderr)[-5000:]
    with out.open(newline="") as f:
        got = {
            int(row["shopseg_transition__build_seq"]): int(row["shopseg_segment_moves"])
            for row in csv.DictReader(f)
        }
    _, transitions = expected_history(store_builds)
    moved = transitions[
        transitions["from_segment_id"].notna()
        & transitions["to_segment_id"].notna()
        & (transitions["from_segment_id"] != transitions["to_segment_id"])
    ]
    want = moved.groupby("build_seq")["customers"].sum().to_dict()
    assert got == {1: 0, 2: 0} | {int(k): int(v) for k, v in want.items()}
    assert got[3] > 0


def test_the_promotion_depends_on_every_published_mart(store_builds: dict[str, dict]) -> None:
    result = store_builds["k5"]["result"]
    manifest = json.loads((result.target_path / "manifest.json").read_text())
    parents = set(manifest["parent_map"]["model.shopseg.segment_model_promotions"])
    published = set(manifest["parent_map"].get("model.shopseg.published_tables", []))
    public = {
        uid
        for uid, node in manifest["nodes"].items()
        if node["resource_type"] == "model" and node.get("access") == "public"
    }
    # the promotion's children: built only by a build whose promotion ran
    children = {
        "model.shopseg.segment_model_promotions",
        "model.shopseg.segment_promoted_assignments",
        "model.shopseg.customer_segment_history",
        "model.shopseg.segment_transitions",
    }
    assert public - children <= parents, sorted(public - children - parents)
    assert published - children <= parents | {"model.shopseg.segment_kmeans_assignments"}, sorted(
        published - children - parents
    )
    # so publishing waits for the promotion, and publishes the history it advanced
    assert published & children == {
        "model.shopseg.customer_segment_history",
        "model.shopseg.segment_transitions",
    }


# --- gate vars reach SQL only as checked numbers ----------------------------------------------


@pytest.mark.parametrize(
    ("var", "value", "select", "line"),
    [
        (
            "shop_min_silhouette",
            "0.99 and false",
            "segmentation_runs",
            "shopseg: var shop_min_silhouette = '0.99 and false' must be a number",
        ),
        (
            "shop_min_classifier_holdout",
            "1 or true",
            "segment_classifier_metrics",
            "shopseg: var shop_min_classifier_holdout = '1 or true' must be a number "
            "(whole, at least 0)",
        ),
    ],
)
def test_a_gate_var_that_is_no_number_stops_the_build(
    shop: Path, tmp_path: Path, var: str, value: str, select: str, line: str
) -> None:
    result = run_dbt(["compile", "--select", select], tmp_path, shop, VARS | {var: value})
    assert not result.ok
    lines = [text.strip() for text in result.output.splitlines()]
    assert line in lines, "\n".join(text for text in lines if "shopseg" in text)


# --- no fallback on a real shop without a loud reason ---------------------------------------


def identical_customers(folder: Path, customers: int) -> None:
    """An orders-only shop where every customer placed the same order at the same time."""
    folder.mkdir(parents=True, exist_ok=True)
    orders = pd.DataFrame(
        {
            "order_id": [f"o{i}" for i in range(customers)],
            "customer_id": [f"c{i:05d}" for i in range(customers)],
            "ordered_at": pd.Timestamp("2026-04-01 10:00"),
            "order_total": 25.0,
            "discount_amount": 0.0,
            "status": "completed",
        }
    )
    orders.to_parquet(folder / "orders.parquet", index=False)


def test_a_fallback_on_a_real_shop_fails_unless_allowed(tmp_path: Path) -> None:
    identical_customers(tmp_path / "input", 1500)
    reason = "fallback: no feature varies between customers (zero variance)"
    result = run_dbt(BUILD, tmp_path / "refused", tmp_path / "input", VARS)
    assert not result.ok
    assert any(
        n.startswith("no_fallback_on_real_shop_segmentation_runs") for n in failed_tests(result)
    )
    assert statuses(result)["segment_model_promotions"] == "skipped"
    lines = [text.strip() for text in result.output.splitlines()]
    logged = [text for text in lines if "fell back to one segment on 1500 customers" in text]
    assert logged and logged[0].endswith(
        "(more than shop_fallback_max_customers = 1000): "
        f"{reason}; fix the input, or set shop_allow_fallback: true to accept one segment"
    ), logged

    allowed = run_dbt(
        BUILD, tmp_path / "allowed", tmp_path / "input", VARS | {"shop_allow_fallback": True}
    )
    assert allowed.ok, allowed.output[-3000:]
    run = current_run(allowed)
    assert run["status"] == reason and run["customers"] == 1500
    # the zero-variance fallback, opted in: every customer once, in the one segment
    segments = allowed.query("select customer_id, segment_id from customer_segments")
    assert segments["customer_id"].is_unique and len(segments) == 1500
    assert set(segments["segment_id"]) == {1}


# --- the same bytes on one thread or four ----------------------------------------------------


def checksums(path: Path, tables: list[str] | None = None) -> dict[str, str]:
    """md5 of each table's rows as CSV text, ordered by every column: every table of a
    published file, or the named tables of a build warehouse."""
    con = connect_warehouse(path) if tables else duckdb.connect(str(path), read_only=True)
    try:
        names = tables or [t for (t,) in con.execute("show tables").fetchall()]
        return {
            name: hashlib.md5(
                con.execute(f'select * from "{name}" order by all')
                .df()
                .to_csv(index=False)
                .encode()
            ).hexdigest()
            for name in names
        }
    finally:
        con.close()


def test_one_thread_or_four_publish_the_same_bytes(shop: Path, tmp_path: Path) -> None:
    builds = {
        threads: run_dbt(
            BUILD, tmp_path / f"threads_{threads}", shop, VARS, env={"SHOPSEG_THREADS": threads}
        )
        for threads in ("1", "4")
    }
    for result in builds.values():
        assert result.ok, result.output[-3000:]
    published = {
        threads: checksums(result.db_path.with_name("shopseg_published.duckdb"))
        for threads, result in builds.items()
    }
    assert "customer_segments" in published["1"] and len(published["1"]) >= 10
    assert published["1"] == published["4"]
    built = {
        threads: checksums(result.db_path, ["customer_segments"])
        for threads, result in builds.items()
    }
    assert built["1"] == built["4"]


EXACT_SQL = """
with
bounds as (select min(x) as lo, nullif(max(x) - min(x), 0) as sp from t),
means as (
    select t.g, {{ shop_exact_avg('t.x', 'bounds.lo', 'bounds.sp') }} as mu
    from t cross join bounds group by t.g, bounds.lo, bounds.sp
)
select t.g, means.mu, {{ shop_exact_stddev('t.x', 'means.mu', 'bounds.sp') }} as sd
from t cross join bounds inner join means on t.g = means.g
group by t.g, means.mu, bounds.sp
order by t.g
"""


def test_profile_means_and_deviations_add_up_the_same_in_any_order(
    shop: Path, tmp_path: Path
) -> None:
    # the macros segment_feature_profiles uses, rendered by dbt, on 3M rows and 4 threads: a
    # plain avg() / stddev_samp() gives a different last bit in nearly every run there
    compiled = run_dbt(
        ["compile", "--inline", EXACT_SQL, "--output", "json", "--quiet"], tmp_path, shop
    )
    assert compiled.ok, compiled.output[-3000:]
    text = compiled.output
    sql = json.loads(text[text.index("{") : text.rindex("}") + 1])["compiled"]
    con = duckdb.connect()
    con.execute("set threads = 4")
    con.execute(
        "create table t as select i % 5 as g, "
        "case when i % 3 = 0 then null else (random() - 0.3) * pow(10, i % 7) end as x "
        "from range(3000000) as r(i)"
    )
    results = {tuple(con.execute(sql).fetchall()) for _ in range(5)}
    assert len(results) == 1
    frame = con.execute("select g, x from t").df().dropna()
    expected = frame.groupby("g")["x"].agg(["mean", "std"])
    got = pd.DataFrame(next(iter(results)), columns=["g", "mean", "std"]).set_index("g")
    pd.testing.assert_frame_equal(got, expected, check_exact=False, rtol=1e-9)
    con.close()
