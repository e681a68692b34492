"""Never a green build with a wrong answer: the model store across real `dbt build` runs.

- The model store advances only with a build that passed every gate: a failed build's
  candidate model never becomes the one the next build aligns its ids to, and previous
  segments, segment_migration and the stability ARI compare with the last promoted build.
- The membership history (customer_segment_history, segment_transitions and the metric
  shopseg_segment_moves) grows with the promoted builds only, on a shop that changes
  between them (later as-of times: customers added, orders gone on).

Like tests/python/test_bad_input.py, the builds leave out dbt unit tests and the classifier's
quality floors (they judge how learnable 300-customer segments are, not what is tested here).
The checks of single builds are in tests/python/test_e2e_build_safety.py: this file's seven
builds run one after the other on one warehouse, so it holds nothing else.
"""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from conftest import (
    SMALL_SHOP_BUILD,
    SMALL_SHOP_VARS,
    connect_warehouse,
    current_run,
    dbt_env,
    failed_tests,
    node_statuses,
    run_dbt,
)

pytestmark = pytest.mark.e2e

BUILD, VARS = SMALL_SHOP_BUILD, SMALL_SHOP_VARS

UNREACHABLE = {"shop_min_silhouette": 0.99}  # fails the silhouette gate of any real shop
SEGMENTS = "select customer_id, segment_id, segment_name from customer_segments order by 1"


# --- the model store advances only with a build that passed every gate -----------------


# The shop as a scheduled build sees it over time: the first five invocations as of EARLY,
# then two months later (customers who signed up since are added, everyone's orders go on),
# then at the shop's own latest row (the demo's as-of, 2026-06-30).
EARLY = {"shop_as_of": "2026-02-28"}
LATER = {"shop_as_of": "2026-04-30"}


@pytest.fixture(scope="module")
def store_builds(small_shop: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    """One warehouse through seven invocations, with what each left behind:

    1. a first build that fails the silhouette gate (nothing was ever promoted);
    2. shop_k 4, which passes;
    3. a build that fails the silhouette gate (it fits and stores a candidate);
    4. `dbt run` with shop_k 6, which runs no gate;
    5. shop_k 4 again, which passes;
    6. shop_k 5 two months later, which passes with a new model;
    7. shop_k 5 at the shop's latest row, which passes.

    Steps 1 to 5 read the shop as of EARLY, 6 as of LATER, 7 as of its latest row: the
    promoted builds 1, 3 and 4 (steps 2, 6 and 7) see three different states of the shop.
    """
    work = tmp_path_factory.mktemp("store")
    steps = [
        ("first_failed", BUILD, EARLY | UNREACHABLE),
        ("k4", BUILD, EARLY | {"shop_k": 4}),
        ("failed", BUILD, EARLY | UNREACHABLE),
        ("run_k6", ["run"], EARLY | {"shop_k": 6}),
        ("k4_again", BUILD, EARLY | {"shop_k": 4}),
        ("k5", BUILD, LATER | {"shop_k": 5}),
        ("k5_latest", BUILD, {"shop_k": 5}),
    ]
    out = {}
    for name, args, dbt_vars in steps:
        result = run_dbt(args, work, small_shop, VARS | dbt_vars)
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
        state = {"statuses": node_statuses(result), "failed": failed_tests(result)}
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
    # two months on: the customers of the first model keep an id of it, the new ones have none
    segments = k5["customer_segments"].set_index("customer_id")
    known = segments.index.isin(k4["customer_segments"]["customer_id"])
    assert not known.all() and known.sum() == len(k4["customer_segments"])
    assert segments.loc[known, "previous_segment_id"].isin([1, 2, 3, 4]).all()
    assert segments.loc[~known, "previous_segment_id"].isna().all()


# --- the membership history grows with the promoted builds only ----------------------------

STEPS = ["first_failed", "k4", "failed", "run_k6", "k4_again", "k5", "k5_latest"]
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
    assert promoted_steps(store_builds) == ["k4", "k4_again", "k5", "k5_latest"]
    want, _ = expected_history(store_builds)
    got = store_builds["k5_latest"]["customer_segment_history"]
    columns = [*HISTORY, "valid_to", "is_current"]
    assert rows(got, columns) == rows(want, columns)
    # k4 again changed nothing; k5 and k5_latest, each on a later state of the shop, moved
    # some customers and added the new ones: a version per change, valid from its as-of time
    assert set(got["build_seq"]) == {1, 3, 4}
    starts = got.groupby("build_seq")["valid_from"].unique()
    assert [len(s) for s in starts] == [1, 1, 1] and starts[1][0] < starts[3][0] < starts[4][0]
    assert str(starts[1][0])[:10] == EARLY["shop_as_of"]
    assert str(starts[3][0])[:10] == LATER["shop_as_of"]
    assert got.groupby("customer_id")["is_current"].sum().eq(1).all()
    assert len(got[got["is_current"]]) == len(store_builds["k5_latest"]["customer_segments"])
    sizes = [len(store_builds[s]["customer_segments"]) for s in ("k4", "k5", "k5_latest")]
    assert sizes[0] < sizes[1] < sizes[2]


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
    got = store_builds["k5_latest"]["segment_transitions"]
    columns = ["build_seq", "from_segment_id", "to_segment_id", "customers"]
    assert rows(got, columns) == rows(want, columns)
    moves = got["from_segment_id"].notna() & (got["from_segment_id"] != got["to_segment_id"])
    assert (got["is_move"] == moves).all()
    # the first build: everyone is new; k4 again: everyone stayed
    first, second = got[got["build_seq"] == 1], got[got["build_seq"] == 2]
    assert first["from_segment_id"].isna().all() and not second["is_move"].any()
    # later states of the shop: some customers move, the ones who signed up since enter
    for build_seq in (3, 4):
        later = got[got["build_seq"] == build_seq]
        assert later["is_move"].any() and later["from_segment_id"].isna().any()


def test_mf_moves_between_segments_per_build_match_the_transitions(
    store_builds: dict[str, dict], tmp_path: Path
) -> None:
    # mf opens the warehouse read-write and reads <project>/target: a copy and a folder of its own
    result = store_builds["k5_latest"]["result"]
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
    assert got[3] > 0 and got[4] > 0


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
