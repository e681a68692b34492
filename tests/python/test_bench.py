"""Tests for the benchmark harness and the pandas baseline (tiny sizes, no timing checks)."""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from shopseg import demo

# bench/ is developer tooling in the checkout, not part of the installed package
ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from bench import baseline, floor, harness  # noqa: E402

ALLOCATE_MB = 200


@pytest.fixture(scope="module")
def tiny_shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 600-customer demo shop as parquet files."""
    out = tmp_path_factory.mktemp("tiny_shop")
    demo.generate_to(out, customers=600, events_per_customer=10)
    return out


def test_parse_scales_accepts_suffixes() -> None:
    assert harness.parse_scales("10000, 100k,1M,2.5k") == [10_000, 100_000, 1_000_000, 2_500]


@pytest.mark.parametrize("text", ["", "0", "-5", "ten"])
def test_parse_scales_rejects_bad_input(text: str) -> None:
    with pytest.raises(ValueError):
        harness.parse_scales(text)


def _python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def test_measure_sees_memory_of_grandchildren(tmp_path: Path) -> None:
    # the child only waits; the grandchild holds the memory
    grandchild = f"import time; b = bytearray({ALLOCATE_MB} * 2**20); time.sleep(1.5)"
    child = f"import subprocess, sys; subprocess.run([sys.executable, '-c', {grandchild!r}])"
    m = harness.measure(_python(child), tmp_path, {}, tmp_path / "run.log", interval=0.05)
    assert m.status == "ok" and m.returncode == 0
    assert m.peak_tree_rss > ALLOCATE_MB * 2**20
    assert m.max_process_rss > ALLOCATE_MB * 2**20
    assert m.samples > 0 and m.peak_at is not None


def test_measure_reports_failure_and_captures_output(tmp_path: Path) -> None:
    code = "import sys; print('hello'); sys.exit(4)"
    m = harness.measure(_python(code), tmp_path, {}, tmp_path / "run.log")
    assert (m.status, m.returncode) == ("failed", 4)
    assert (tmp_path / "run.log.out").read_text().strip() == "hello"


def test_measure_kills_a_run_over_the_memory_limit(tmp_path: Path) -> None:
    code = (
        "import time\nchunks = []\nfor _ in range(100):\n"
        "    chunks.append(bytearray(50 * 2**20)); time.sleep(0.05)"
    )
    m = harness.measure(
        _python(code), tmp_path, {}, tmp_path / "run.log", interval=0.05, memory_limit=150 * 2**20
    )
    assert m.status == "memory_limit"
    assert m.returncode != 0
    assert m.peak_tree_rss > 150 * 2**20
    assert "limit" in m.note


def test_tree_rss_counts_this_process() -> None:
    assert harness.tree_rss(__import__("os").getpid()) > 10 * 2**20


def _fake_target(target: Path) -> None:
    target.mkdir(parents=True)
    results = {
        "elapsed_time": 9.5,
        "results": [
            {"unique_id": "model.shopseg.stg_a", "status": "success", "execution_time": 1.0},
            {
                "unique_id": "model.shopseg.fit",
                "status": "success",
                "execution_time": 6.0,
                "timing": [
                    {
                        "name": "compile",
                        "started_at": "2026-01-01T00:00:10.000000Z",
                        "completed_at": "2026-01-01T00:00:11.000000Z",
                    },
                    {
                        "name": "execute",
                        "started_at": "2026-01-01T00:00:11.000000Z",
                        "completed_at": "2026-01-01T00:00:16.000000Z",
                    },
                ],
            },
            {
                "unique_id": "test.shopseg.not_null_a.3f2e1d",
                "status": "fail",
                "execution_time": 0.5,
            },
        ],
    }
    manifest = {
        "nodes": {
            "model.shopseg.stg_a": {"fqn": ["shopseg", "staging", "shop", "stg_a"]},
            "model.shopseg.fit": {"fqn": ["shopseg", "segmentation", "fit"]},
        }
    }
    (target / "run_results.json").write_text(json.dumps(results))
    (target / "manifest.json").write_text(json.dumps(manifest))


def test_peak_between_uses_only_samples_in_the_window() -> None:
    trace = [(1.0, 10), (2.0, 50), (3.0, 20), (4.0, 90)]
    assert harness.peak_between(trace, 1.5, 3.5) == 50
    assert harness.peak_between(trace, 5.0, 6.0) is None


def test_node_times_sorted_with_layers(tmp_path: Path) -> None:
    _fake_target(tmp_path / "target")
    t0 = pd.Timestamp("2026-01-01T00:00:00Z").timestamp()
    trace = [(t0 + 5, 100), (t0 + 12, 700), (t0 + 20, 900)]
    nodes, elapsed = harness.node_times(tmp_path / "target", trace)
    assert elapsed == 9.5
    assert [n.unique_id for n in nodes] == [
        "model.shopseg.fit",
        "model.shopseg.stg_a",
        "test.shopseg.not_null_a.3f2e1d",
    ]
    assert [n.layer for n in nodes] == ["segmentation", "staging", "test"]
    assert nodes[0].started == t0 + 10 and nodes[0].completed == t0 + 16
    assert nodes[0].peak_rss == 700  # the sample at 20 s is after the node finished
    assert nodes[1].peak_rss is None  # no timing, no attribution
    totals = harness.layer_totals([n.__dict__ for n in nodes])
    assert list(totals) == ["segmentation", "staging", "test"]


def test_node_times_without_artifacts(tmp_path: Path) -> None:
    assert harness.node_times(tmp_path) == ([], None)


def _run(status: str, wall: float, peak: int) -> dict:
    m = harness.Measurement(status, 0, wall, peak, peak, wall, 10, 1.0, 1.0, "now")
    return m.__dict__


def _scales() -> list[harness.Scale]:
    nodes = [
        {"unique_id": "model.shopseg.fit", "resource_type": "model", "layer": "segmentation"}
        | {"status": "success", "seconds": 6.0},
        {"unique_id": "test.shopseg.not_null_a.3f2e1d", "resource_type": "test", "layer": "test"}
        | {"status": "pass", "seconds": 0.5},
    ]
    small = harness.Scale(100_000, 50, {"events": 5_000_000}, 10.0)
    small.dbt = _run("ok", 20.0, 2**30) | {"nodes": nodes, "dbt_elapsed": 15.0}
    small.baseline = _run("ok", 40.0, 2 * 2**30) | {"stages": {"load": 1.0}}
    large = harness.Scale(1_000_000, 50, {"events": 50_000_000}, 100.0, gen_cached=True)
    large.dbt = _run("ok", 100.0, 3 * 2**30) | {"nodes": nodes, "dbt_elapsed": 90.0}
    large.baseline = _run("memory_limit", 50.0, 18 * 2**30)
    return [small, large]


def test_report_names_slowest_node_ratios_and_growth() -> None:
    machine = {
        "cores": 2,
        "usable_cores": 2,
        "cpu": "cpu",
        "ram_gib": 8.0,
        "python": "3.11",
        "platform": "linux",
        "versions": {"duckdb": "2"},
    }
    report = harness.markdown_report(machine, _scales())
    assert "**fit** (6.0 s" in report
    assert "| 100,000 → 1,000,000 | 10.00× | 5.00× | 3.00× | - | - |" in report
    assert "0.50×" in report  # dbt / baseline time at 100k
    assert "(memory_limit)" in report  # the baseline that was stopped is reported, not hidden
    assert "test: not_null_a" in report
    table = harness.text_table(harness.summary_rows(_scales()))
    assert len(table.splitlines()) == 4


def test_baseline_features_match_hand_computed_values() -> None:
    as_of = pd.Timestamp("2026-06-30 12:00")
    orders = pd.DataFrame(
        {
            "order_id": [1, 2, 3, 4, 4],
            "customer_id": [10, 10, 10, 11, 11],
            "ordered_at": pd.to_datetime(
                ["2026-06-01", "2026-06-20", "2026-06-25", "2026-05-01", "2026-05-02"]
            ),
            "order_total": [100.0, 50.0, 30.0, 20.0, 99.0],
            "discount_amount": [10.0, None, 0.0, None, None],
            "status": pd.Categorical([None, "completed", "returned", None, "cancelled"]),
        }
    )
    got = baseline.order_features(orders, as_of)
    assert got.loc[10, "order_count"] == 2
    assert got.loc[10, "monetary"] == 150.0
    assert got.loc[10, "avg_order_value"] == 75.0
    assert got.loc[10, "recency_days"] == 10
    assert got.loc[10, "discounted_order_share"] == 0.5
    assert got.loc[10, "return_rate"] == pytest.approx(1 / 3)
    assert got.loc[11, "order_count"] == 1  # the duplicated order 4 keeps its earliest row


def test_baseline_sessions_use_ids_or_thirty_minute_gaps() -> None:
    as_of = pd.Timestamp("2026-06-30")
    times = ["2026-06-01 10:00", "2026-06-01 10:20", "2026-06-01 11:00", "2026-06-02 09:00"]
    events = pd.DataFrame(
        {
            "event_id": [1, 2, 3, 4, 5, 6],
            "customer_id": pd.array([7, 7, 7, 7, 8, None], dtype="Int64"),
            "session_id": [None, None, None, "s1", "s2", "s3"],
            "event_type": ["page_view", "product_view", "add_to_cart", "product_view"]
            + ["page_view", "page_view"],
            "occurred_at": pd.to_datetime([*times, "2026-06-29 23:00", "2026-06-29 23:00"]),
        }
    )
    got = baseline.event_features(events, as_of)
    assert list(got.index) == [7, 8]  # the anonymous event is dropped
    assert got.loc[7, "session_count"] == 3  # 10:00 + 10:20 together, 11:00 alone, s1
    assert got.loc[7, "product_view_count"] == 2
    assert got.loc[7, "cart_add_count"] == 1
    assert got.loc[7, "days_since_last_visit"] == 28
    assert got.loc[8, "days_since_last_visit"] == 1


def test_baseline_runs_end_to_end_on_a_tiny_shop(tiny_shop: Path) -> None:
    stages: dict[str, float] = {}
    result = baseline.run(tiny_shop, k_values=range(3, 5), n_init=1, stages=stages)
    assert list(stages) == list(baseline.STAGES)
    assert result["customers"] == pd.read_parquet(tiny_shop / "truth" / "personas.parquet").shape[0]
    assert result["k"] in (3, 4)
    assert 0.0 <= result["forest_accuracy"] <= 1.0
    features = baseline.build_features(baseline.load_tables(tiny_shop))
    assert list(features.columns) == list(baseline.FEATURES)
    assert features.index.is_unique
    assert np.isfinite(baseline.scale(features)).all()


def test_baseline_cli_prints_one_json_line(tiny_shop: Path, capsys: pytest.CaptureFixture) -> None:
    assert baseline.main(["--input", str(tiny_shop), "--k-min", "3", "--k-max", "3"]) == 0
    report = json.loads(capsys.readouterr().out.strip())
    assert report["status"] == "ok"
    assert set(report["stages"]) == set(report["stage_started_at"]) == set(baseline.STAGES)


def test_generate_data_reuses_identical_data(tmp_path: Path) -> None:
    first = harness.generate_data(tmp_path / "d", 300, 5, seed=1, regenerate=False)
    again = harness.generate_data(tmp_path / "d", 300, 5, seed=1, regenerate=False)
    other = harness.generate_data(tmp_path / "d", 300, 5, seed=2, regenerate=False)
    assert not first[2] and again[2] and not other[2]
    assert again[0] == first[0]


def test_generator_digest_covers_every_demo_module(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy = tmp_path / "demo"
    shutil.copytree(Path(demo.__file__).parent, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(demo, "__file__", str(copy / "__init__.py"))
    before = harness.generator_digest()
    assert harness.generator_digest() == before
    events = copy / "events.py"
    events.write_text(events.read_text() + "\n# a change in one table's module\n")
    assert harness.generator_digest() != before


def test_baseline_run_works_from_another_project_folder(tiny_shop: Path, tmp_path: Path) -> None:
    """The baseline subprocess finds `bench` although its working folder is not the checkout."""
    run = harness.run_baseline(tmp_path, tiny_shop, tmp_path / "run", harness.Limits())
    assert run["status"] == "ok", Path(run["log"]).read_text()
    assert set(run["stages"]) == set(baseline.STAGES)


def test_the_installed_package_holds_no_benchmark() -> None:
    assert importlib.util.find_spec("shopseg.bench") is None
    assert importlib.util.find_spec("shopseg.baseline") is None


@pytest.mark.e2e
def test_run_bench_end_to_end_on_a_tiny_shop(tmp_path: Path) -> None:
    machine, scales = harness.run_bench([1500], 10, tmp_path / "out", ROOT)
    (scale,) = scales
    assert scale.dbt is not None and scale.dbt["status"] == "ok", scale.dbt
    names = {n["unique_id"] for n in scale.dbt["nodes"]}
    assert "model.shopseg.segment_kmeans_fit" in names
    assert scale.dbt["peak_tree_rss"] > 0
    assert (tmp_path / "out" / "runs" / "customers-1500-epc-10" / "dbt" / "shopseg.duckdb").exists()
    assert scale.baseline is not None and scale.baseline["status"] == "ok", scale.baseline
    assert set(scale.baseline["stage_peak_rss"]) == set(baseline.STAGES)
    report = harness.markdown_report(machine, scales)
    assert "slowest node" in report and "shopseg / baseline" in report
    saved = json.loads((tmp_path / "out" / "results.json").read_text())
    assert list(saved["scales"]) == ["1500x10"]
    assert scale.floor is not None and scale.floor["status"] == "ok", scale.floor
    assert scale.floor["customers"] > 0 and "shopseg / floor" in report
    # the production build: no unit test runs; the Python models' timed steps are read
    assert not [n for n in scale.dbt["nodes"] if n["unique_id"].startswith("unit_test.")]
    assert any("permutation importance" in step["line"] for step in scale.dbt["steps"])
    # a parse first, timed on its own; the build reuses it (no second full parse)
    assert scale.dbt["parse"]["status"] == "ok"
    build_log = Path(scale.dbt["log"]).read_text()
    parse_log = Path(scale.dbt["log"]).with_name("parse.log.out").read_text()
    assert "Unable to do partial parsing because saved manifest not found" in parse_log
    assert "Unable to do partial parsing" not in build_log, build_log[:2000]


def test_generate_data_writes_a_family_without_events(tmp_path: Path) -> None:
    first = harness.generate_data(tmp_path / "f", 400, 50, 1, False, "fashion_no_events")
    again = harness.generate_data(tmp_path / "f", 400, 99, 2, False, "fashion_no_events")
    rows, _, cached = first
    assert not cached and again[2]  # its own seed and events: the demo's settings do not apply
    assert "events" not in rows and rows["customers"] == 400
    assert not (tmp_path / "f" / "events.parquet").exists()
    assert harness.generator_digest("fashion_no_events") != harness.generator_digest()


def test_baseline_runs_on_a_shop_without_events(tmp_path: Path) -> None:
    harness.generate_data(tmp_path / "f", 600, 50, 1, False, "fashion_no_events")
    report = baseline.run(tmp_path / "f")
    assert report["status"] == "ok" and report["customers"] == 600


def _floor_shop(folder: Path, with_events: bool = True) -> Path:
    folder.mkdir(parents=True)
    at = pd.Timestamp("2026-06-30 12:00")
    pd.DataFrame(
        {
            "order_id": [1, 2, 3, 4],
            "customer_id": [10, 10, 10, 11],
            "ordered_at": [at - pd.Timedelta(days=d) for d in (30, 5, 1, 0)],
            "order_total": [20.0, 30.0, 99.0, 5.0],
            "status": ["completed", " Completed", "cancelled", None],
        }
    ).to_parquet(folder / "orders.parquet")
    if with_events:
        minutes = [0, 10, 40, 71, 0, 5]  # customer 10: 10 min, then 30 and 31 min gaps
        pd.DataFrame(
            {
                "event_id": range(1, 7),
                "customer_id": [10, 10, 10, 10, 12, 12],
                "session_id": [None] * 6,
                "event_type": ["product_view", "add_to_cart", "page_view", "Product_View"]
                + ["product_view", "add_to_cart"],
                "occurred_at": [at + pd.Timedelta(minutes=m) for m in minutes],
            }
        ).to_parquet(folder / "events.parquet")
    return folder


def test_floor_aggregates_match_hand_computed_values(tmp_path: Path) -> None:
    shop = _floor_shop(tmp_path / "shop")
    assert floor.main(["--input", str(shop), "--out", str(tmp_path / "f.parquet")]) == 0
    got = pd.read_parquet(tmp_path / "f.parquet").sort_values("customer_id")
    got = got.set_index("customer_id").astype("float64")
    # 10: two completed orders (50.0, last 5 days ago), sessions at 0 (+10), 40 (30 min is
    # not more than the gap), 71 (31 min is): 2 sessions; 11: a null status counts as
    # completed; 12: events only
    assert got.loc[10].tolist() == [2, 50.0, 5, 2, 2, 1]
    assert got.loc[11, ["order_count", "revenue", "recency_days"]].tolist() == [1, 5.0, 0]
    assert got.loc[12, ["session_count", "product_views", "cart_adds"]].tolist() == [1, 1, 1]
    assert np.isnan(got.loc[12, "order_count"])


def test_floor_runs_without_events(tmp_path: Path) -> None:
    shop = _floor_shop(tmp_path / "shop", with_events=False)
    floor.main(["--input", str(shop), "--out", str(tmp_path / "f.parquet")])
    got = pd.read_parquet(tmp_path / "f.parquet")
    assert list(got.columns) == ["customer_id", "order_count", "revenue", "recency_days"]
    assert sorted(got["customer_id"]) == [10, 11]


def test_timed_steps_are_read_from_dbts_log(tmp_path: Path) -> None:
    log = tmp_path / "dbt.log"
    log.write_text(
        "\x1b[0m18:24:31.17 [info ] [Thread-1 (]: shopseg: k=8 fitted on 5128 customers (0.1s)\n"
        "\x1b[0m18:24:31.20 [info ] [Thread-1 (]: shopseg: scored 5128 customers with model x\n"
        "\x1b[0m18:24:34.91 [info ] [Thread-2 (]: shopseg: permutation importance (12.5s)\n"
    )
    steps = harness.timed_steps(log)
    assert [s["seconds"] for s in steps] == [0.1, 12.5]
    assert steps[0]["line"] == "shopseg: k=8 fitted on 5128 customers (0.1s)"
    assert harness.timed_steps(tmp_path / "absent.log") == []


def test_targets_say_met_or_how_far() -> None:
    small, large = _scales()
    small.floor = _run("ok", 2.0, 2**28)
    mid = harness.Scale(200_000, 50, {"events": 10_000_000}, 10.0)
    mid.dbt = _run("ok", 30.0, 2**30) | {"dbt_elapsed": 24.0}
    mid.baseline = _run("ok", 60.0, 2**31)
    lines = harness.targets([small, mid, large])
    text = "\n".join(lines)
    # 100k: baseline 40 s / dbt 20 s = 2x, against 3x; memory 0.5x: met
    assert "demo, 100,000: 2.00× faster than the baseline (target ≥ 3×: not met: 1.50× away" in text
    assert "peak memory 0.50× the baseline's (target ≤ 0.5×: met)" in text
    assert "demo, 200,000: start-up, parse and artifacts are 20% of the build" in text
    assert "demo, 1,000,000: not measured in this report" in text  # the baseline was stopped
    assert "grows 5.00× (target ≤ 4×: not met: 1.25× away from 4×)" in text
