"""The segment report: a static HTML file with every chart, rendered by a real Chromium.

Most tests read the small fixture warehouse (tests/python/fixture_warehouse.py, no dbt); the
e2e ones read a real demo build and drive Chromium.
"""

from __future__ import annotations

import dataclasses
import inspect
import re
import shutil
import struct
import zlib
from pathlib import Path

import duckdb
import jinja2
import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import PROJECT, DbtResult
from fixture_warehouse import TABLES
from fixture_warehouse import build as build_fixture_warehouse

from shopseg import browser, cli, export
from shopseg.cli import main
from shopseg.export import MIN_AUDIENCE_SIZE
from shopseg.report import CHART_IDS, PALETTE, project_sample, read_report_data, render_report
from shopseg.report import page as report_page

# the panels that are tables, with headers they must have; the others are SVG charts
TABLE_CHARTS = {
    "segment-rules": {"segment", "rule (original units)", "customers", "precision"},
    "category-affinity": {"segment", "customers", "category 1 by lift", "category 3 by lift"},
}
SVG_CHARTS = [c for c in CHART_IDS if c not in TABLE_CHARTS]
# what the flow panel says instead of drawing an empty chart
FLOW_NOTES = (
    "Only one stored build so far.",
    "No segment history in this file.",
    "No stored build yet.",
)
# What the page reports about each chart panel, evaluated in the browser after load.
CHARTS_JS = """[...document.querySelectorAll('section[data-chart]')].map(p => {
  const box = p.getBoundingClientRect();
  const svg = p.querySelector('svg.chart');
  return {id: p.dataset.chart, width: box.width, height: box.height,
          svg_width: svg ? svg.getBoundingClientRect().width : 0,
          svg_marks: svg ? svg.querySelectorAll('rect, circle, polyline, line').length : 0,
          svg_axis_labels: svg ? svg.querySelectorAll('text.axis-label').length : 0,
          table_rows: p.querySelectorAll('table tbody tr').length,
          note: p.querySelector('p.note').textContent,
          title: p.querySelector('h2').textContent};
})"""


def _published(build: DbtResult) -> Path:
    return build.db_path.parent / "shopseg_published.duckdb"


def _query(db: Path, sql: str) -> pd.DataFrame:
    """Run SQL on a published file, read-only."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).df()
    finally:
        con.close()


def _chromium() -> str:
    """The browser for these tests; missing is a failure (run `make browser`), never a skip."""
    try:
        return browser.find_browser()
    except browser.BrowserMissingError as exc:
        pytest.fail(f"{exc}. The report's browser tests need Chromium; they are never skipped.")


def _panel(page: str, chart_id: str) -> str:
    """The HTML of one chart's section."""
    match = re.search(
        rf'<section [^>]*data-chart="{re.escape(chart_id)}">(.*?)</section>', page, re.S
    )
    assert match, f"chart {chart_id!r} missing from the report"
    return match.group(1)


def _axis_label(panel: str, axis: str) -> str:
    match = re.search(rf'class="axis-label {axis}-label"[^>]*>([^<]+)</text>', panel)
    return match.group(1).strip() if match else ""


def _png_pixels(path: Path, max_rows: int) -> tuple[int, int, list[bytes]]:
    """Width, height and the first rows of an 8-bit RGB(A) PNG as pixel bytes (pure Python)."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    pos, idat = 8, []
    while pos < len(data):
        size, kind = struct.unpack(">I4s", data[pos : pos + 8])
        body = data[pos + 8 : pos + 8 + size]
        if kind == b"IHDR":
            width, height, depth, colour_type = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and colour_type in (2, 6), (depth, colour_type)
        elif kind == b"IDAT":
            idat.append(body)
        pos += 12 + size
    bpp = 3 if colour_type == 2 else 4
    raw, stride = zlib.decompress(b"".join(idat)), width * bpp
    prev, rows = bytearray(stride), []
    for y in range(min(height, max_rows)):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        if kind == 2:  # up
            line = bytearray((x + p) & 255 for x, p in zip(line, prev, strict=True))
        elif kind in (1, 3, 4):  # sub, average, paeth
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                b, c = prev[i], (prev[i - bpp] if i >= bpp else 0)
                if kind == 1:
                    line[i] = (line[i] + a) & 255
                elif kind == 3:
                    line[i] = (line[i] + ((a + b) >> 1)) & 255
                else:
                    p = a + b - c
                    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                    near = a if pa <= pb and pa <= pc else b if pb <= pc else c
                    line[i] = (line[i] + near) & 255
        rows.append(bytes(line))
        prev = line
    return width, height, rows


def screenshot_problems(path: Path, rows: int = 1200) -> list[str]:
    """Why a report screenshot looks wrong (empty list when it shows painted charts)."""
    if not path.exists() or path.stat().st_size == 0:
        return [f"no screenshot at {path}"]
    width, height, lines = _png_pixels(path, rows)
    bpp = len(lines[0]) // width
    colours = {line[i : i + 3] for line in lines for i in range(0, len(line), bpp)}
    palette = {bytes.fromhex(c[1:]) for c in PALETTE}
    problems = []
    if width != 1400:
        problems.append(f"width {width}, expected 1400")
    if height < 2000:
        problems.append(f"height {height}: the page is too short to hold the charts")
    if len(colours) < 50:
        problems.append(f"only {len(colours)} colours in the top {rows} rows: blank")
    if len(colours & palette) < 4:
        problems.append(f"{len(colours & palette)} segment colours painted in the top rows")
    return problems


def _write_report(db: Path, out: Path) -> Path:
    assert main(["report", "--db", str(db), "--out", str(out)]) == 0
    return out


def check_charts(page: str) -> None:
    """Every chart in page order, titled, with labelled axes (SVG) or a rules table."""
    ids = re.findall(r'<section [^>]*data-chart="([^"]+)"', page)
    assert ids == list(CHART_IDS)
    for chart_id in CHART_IDS:
        panel = _panel(page, chart_id)
        title = re.search(r'<h2 class="chart-title">([^<]+)</h2>', panel)
        assert title and title.group(1).strip(), f"{chart_id}: no title"
        if chart_id == "segment-flow" and "<svg" not in panel:
            # fewer than two stored builds: a plain note, not an empty chart
            assert any(note in panel for note in FLOW_NOTES), panel
        elif chart_id in SVG_CHARTS:
            assert f'<svg class="chart" data-chart-svg="{chart_id}"' in panel, chart_id
            assert re.search(r"<title [^>]*>[^<]+</title>", panel), f"{chart_id}: no svg title"
            assert _axis_label(panel, "x"), f"{chart_id}: no x axis label"
            assert _axis_label(panel, "y"), f"{chart_id}: no y axis label"
        else:
            headers = re.findall(r"<th[^>]*>([^<]+)</th>", panel)
            assert TABLE_CHARTS[chart_id] <= set(headers), (chart_id, headers)
    # units are spelled out where a quantity has one
    assert "%" in _axis_label(_panel(page, "lifecycle"), "x")
    assert "percentage points" in _axis_label(_panel(page, "feature-importance"), "x")
    assert "standardised units" in _axis_label(_panel(page, "projection"), "x")


def check_published_numbers(page: str, db: Path) -> None:
    """The page shows the current run's numbers of the published file `db`, and only those."""
    run = _query(
        db, "select run_id, k, bootstrap_stability from segmentation_runs where is_current"
    ).iloc[0]
    assert f"Model run <code>{run['run_id']}</code>" in page
    if pd.notna(run["bootstrap_stability"]):
        assert f"<li>bootstrap stability<b>{run['bootstrap_stability']:.3f}</b></li>" in page
    k_selection = _panel(page, "k-selection")
    assert f"chosen k = {run['k']}" in k_selection
    sweep = _query(db, f"select k from segment_k_selection where run_id = '{run['run_id']}'")
    assert k_selection.count("<circle") == 2 * len(sweep)  # silhouette and inertia points
    sizes = _panel(page, "segment-sizes")
    for row in _query(db, "select * from segment_profiles").itertuples():
        assert f"{row.segment_id} · {row.segment_name}" in sizes
        assert f"{row.customers:,} ({100 * row.customer_share:.1f}%)" in sizes
    rules = _query(db, "select count(*) as n from segment_rules where is_current")["n"].iloc[0]
    assert _panel(page, "segment-rules").count("<tr><td") == rules
    features = _query(db, "select feature from segment_feature_importance where is_current")
    bars = re.findall(r'rx="2"><title>([^:<]+):', _panel(page, "feature-importance"))
    assert sorted(bars) == sorted(features["feature"])
    # 3,000 sampled customers (fewer when the shop is smaller) plus one centre per segment
    customers = _query(db, "select count(*) as n from customer_segments")["n"].iloc[0]
    assert _panel(page, "projection").count('r="2.6"') == min(3000, customers)
    assert _panel(page, "projection").count('r="11"') == run["k"]
    check_audience_marks(page, db, MIN_AUDIENCE_SIZE)
    check_flow(page, db)
    check_affinity(page, db)
    moves = _query(
        db,
        "select from_segment_id, to_segment_id, customers from segment_migration "
        f"where run_id = '{run['run_id']}'",
    )
    migration = _panel(page, "migration")
    if moves.empty:  # a first build: the panel says so, it is not left out
        assert "No previous run" in migration
        return
    assert "No previous run" not in migration
    cells = re.findall(r'class="cell"[^>]*>([^<]+)</text>', migration)
    assert sorted(cells) == sorted(f"{n:,}" for n in moves["customers"])
    both = int(moves["customers"].sum())
    stayed = int(moves.loc[moves["from_segment_id"] == moves["to_segment_id"], "customers"].sum())
    assert f"{both:,}, of whom {100 * stayed / both:.1f}% kept their segment" in migration


def _marks(panel: str, element: str) -> list[dict[str, str]]:
    """The data-* attributes of every `element` start tag (e.g. 'rect class="block"')."""
    return [
        dict(re.findall(r'data-([a-z-]+)="([^"]*)"', attributes))
        for attributes in re.findall(rf"<{element}(?=[\s>])([^>]*)>", panel)
    ]


def exportable(db: Path) -> dict[int, int]:
    """Per segment id, the customers a default `shopseg export` writes (consent, no holdout)."""
    segments = _query(db, "select segment_id, is_holdout, accepts_marketing from customer_segments")
    consent = segments["accepts_marketing"]
    consents = consent.fillna(False).astype(bool) if consent.notna().any() else True
    reachable = segments[consents & ~segments["is_holdout"].astype(bool)]
    counts = reachable.groupby("segment_id").size()
    return {int(s): int(counts.get(s, 0)) for s in segments["segment_id"].unique()}


def check_audience_marks(page: str, db: Path, limit: int) -> None:
    """Segments with fewer exportable customers than `limit` are marked, the others are not."""
    counts = exportable(db)
    sizes = _panel(page, "segment-sizes")
    marked = {int(m["segment"]) for m in _marks(sizes, "text") if "under-audience-limit" in m}
    assert marked == {s for s, n in counts.items() if n < limit}
    shown = {int(m["segment"]): m for m in _marks(sizes, "text") if "segment" in m}
    assert set(shown) == set(counts)
    for segment_id, n in counts.items():
        mark = "⚠ " if n < limit else ""
        assert re.search(rf'data-segment="{segment_id}"[^>]*>{mark}{n:,}</text>', sizes)
    fact = f"<li>segments under the {limit:,}-customer audience limit (shop_min_audience_size)"
    assert f"{fact}<b>{len(marked)} of {len(counts)}</b></li>" in page


def check_flow(page: str, db: Path) -> None:
    """The flow panel's blocks and bands add up to segment_transitions, build by build."""
    flow = _panel(page, "segment-flow")
    moves = _query(db, "select * from segment_transitions")
    builds = sorted(moves["build_seq"].unique())
    if len(builds) < 2:
        assert "Only one stored build so far." in flow and "<svg" not in flow
        return
    assert not any(note in flow for note in FLOW_NOTES)
    arrived = moves.dropna(subset=["to_segment_id"])
    want = arrived.groupby(["build_seq", "to_segment_id"])["customers"].sum()
    blocks = {
        (int(m["build"]), int(m["segment"])): int(m["customers"])
        for m in _marks(flow, 'rect class="block"')
    }
    assert blocks == {(int(b), int(s)): int(n) for (b, s), n in want.items()}
    later = moves[moves["build_seq"] > builds[0]].dropna(
        subset=["from_segment_id", "to_segment_id"]
    )
    bands = {
        (int(m["build"]), int(m["from"]), int(m["to"])): int(m["customers"])
        for m in _marks(flow, 'path class="flow"')
    }
    assert bands == {
        (int(r.build_seq), int(r.from_segment_id), int(r.to_segment_id)): int(r.customers)
        for r in later.itertuples()
    }
    last = moves[moves["build_seq"] == builds[-1]]
    moved = int(last.loc[last["is_move"], "customers"].sum())
    new = int(last.loc[last["from_segment_id"].isna(), "customers"].sum())
    left = int(last.loc[last["to_segment_id"].isna(), "customers"].sum())
    assert f">{moved:,} moved</text>" in flow and f">+{new:,} new −{left:,} left</text>" in flow


def check_affinity(page: str, db: Path) -> None:
    """Per segment, the categories of highest lift with buyers, in rank order, notable marked."""
    affinity = _panel(page, "category-affinity")
    rows = _query(
        db,
        "select a.segment_id, a.category, a.is_notable from segment_category_affinity as a "
        "inner join segmentation_runs as r on a.run_id = r.run_id and r.is_current "
        "where a.customers > 0 order by a.segment_id, a.affinity_rank",
    )
    shown = {}
    for row in re.findall(r'<tr data-segment="(\d+)">(.*?)</tr>', affinity):
        shown[int(row[0])] = _marks(row[1], 'td class="affinity"')
    segments = _query(db, "select segment_id from segment_profiles")["segment_id"]
    assert sorted(shown) == sorted(int(s) for s in segments)
    for segment_id, cells in shown.items():
        top = rows[rows["segment_id"] == segment_id].head(3)
        assert [c["category"] for c in cells] == list(top["category"]), segment_id
        assert [c["notable"] == "true" for c in cells] == list(top["is_notable"]), segment_id
    assert affinity.count('class="notable"') == sum(
        c["notable"] == "true" for cells in shown.values() for c in cells
    )


@pytest.fixture(scope="module")
def report_html(fixture_warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _write_report(fixture_warehouse, tmp_path_factory.mktemp("report") / "report.html")


@pytest.fixture(scope="module")
def demo_report_html(demo_build: DbtResult, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _write_report(_published(demo_build), tmp_path_factory.mktemp("demo") / "report.html")


def test_report_has_every_chart_titled_with_labelled_axes(report_html: Path) -> None:
    check_charts(report_html.read_text(encoding="utf-8"))


def test_report_shows_the_published_numbers(fixture_warehouse: Path, report_html: Path) -> None:
    check_published_numbers(report_html.read_text(encoding="utf-8"), fixture_warehouse)


def test_a_first_build_says_there_is_no_previous_run(tmp_path: Path) -> None:
    db = build_fixture_warehouse(tmp_path / "first.duckdb", previous=False)
    page = _write_report(db, tmp_path / "report.html").read_text(encoding="utf-8")
    check_charts(page)
    check_published_numbers(page, db)
    assert "No previous run" in _panel(page, "migration")
    assert "adjusted Rand index" not in page
    flow = _panel(page, "segment-flow")
    assert "Only one stored build so far." in flow and "<svg" not in flow
    assert "single build (build 1, data as of 2026-07-14 03:00:00)" in flow


def test_report_is_self_contained_and_deterministic(
    fixture_warehouse: Path, report_html: Path, tmp_path: Path
) -> None:
    page = report_html.read_text(encoding="utf-8")
    assert not re.search(r"https?:|//[a-z0-9.-]+\.[a-z]{2,}/", page, re.I), "external reference"
    assert not re.search(r"\s(src|href)\s*=", page, re.I), "the report loads nothing"
    assert "<script" not in page.lower() and "<link" not in page.lower()
    again = _write_report(fixture_warehouse, tmp_path / "again.html")
    assert again.read_bytes() == report_html.read_bytes()


def test_migration_matrix_against_a_previous_run(fixture_warehouse: Path) -> None:
    data = read_report_data(fixture_warehouse)
    ids = [int(s) for s in data.profiles["segment_id"]]
    retired = max(ids) + 1  # a previous segment that no longer exists
    moves = [(ids[0], ids[0], 500), (ids[0], ids[1], 25), (ids[1], ids[1], 300)]
    moves += [(retired, ids[2], 40)]
    migration = pd.DataFrame(
        [("prev-run", data.run["run_id"], a, b, n) for a, b, n in moves],
        columns=["previous_run_id", "run_id", "from_segment_id", "to_segment_id", "customers"],
    )
    page = render_report(dataclasses.replace(data, migration=migration))
    panel = _panel(page, "migration")
    assert "No previous run" not in panel
    assert "prev-run" in panel and "865" in panel  # customers in both runs
    cells = re.findall(r'class="cell"[^>]*>([^<]+)</text>', panel)
    assert sorted(cells) == sorted(["500", "25", "300", "40"])
    assert f"{retired} · (not in this run)" in panel
    assert re.search(r'class="value"[^>]*>95%</text>', panel)  # 500 of 525 stayed
    assert _axis_label(panel, "x") and _axis_label(panel, "y")


def test_report_reads_the_file_read_only(fixture_warehouse: Path, tmp_path: Path) -> None:
    # another reader holding the published file open does not stop the report
    con = duckdb.connect(str(fixture_warehouse), read_only=True)
    try:
        _write_report(fixture_warehouse, tmp_path / "r.html")
    finally:
        con.close()
    assert main(["report", "--db", str(tmp_path / "missing.duckdb"), "--out", "x.html"]) == 2


def test_missing_browser_fails_with_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.delenv("SHOPSEG_CHROMIUM", raising=False)
    with pytest.raises(browser.BrowserMissingError, match="make browser"):
        browser.find_browser()


# --- the fixture warehouse is the published schema ---------------------------------------


def declared_marts() -> dict[str, list[tuple[str, str | None]]]:
    """(column, DuckDB type) of every model in the marts' and segmentation YAML, as declared."""
    con = duckdb.connect()
    declared = {}
    files = sorted(PROJECT.glob("models/marts/*.yml"))
    files += sorted(PROJECT.glob("python_models/segmentation/*.yml"))
    files += sorted(PROJECT.glob("python_models/predictions/*.yml"))
    for path in files:
        for model in (yaml.safe_load(path.read_text()) or {}).get("models", []):
            columns = []
            for column in model.get("columns", []):
                data_type = column.get("data_type")
                if data_type is not None:  # dbt renders it for the target, then DuckDB names it
                    sql_type = jinja2.Template(data_type).render(target={"type": "duckdb"})
                    data_type = con.execute(f"select typeof(cast(null as {sql_type}))").fetchone()[
                        0
                    ]
                columns.append((column["name"], data_type))
            declared[model["name"]] = columns
    con.close()
    # the published copy leaves the fit's timing out (it differs from build to build)
    declared["prediction_runs"] = [c for c in declared["prediction_runs"] if c[0] != "fit_seconds"]
    return declared


def schema_drift(db: Path, declared: dict[str, list[tuple[str, str | None]]]) -> list[str]:
    """How the tables of `db` differ from the declared marts (empty when they match)."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        built = con.execute(
            "select table_name, column_name, data_type from information_schema.columns "
            "order by table_name, ordinal_position"
        ).fetchall()
    finally:
        con.close()
    tables: dict[str, list[tuple[str, str]]] = {}
    for table, column, data_type in built:
        tables.setdefault(table, []).append((column, data_type))
    problems = []
    for table, columns in tables.items():
        if table not in declared:
            problems.append(f"{table}: no mart of that name")
            continue
        want = declared[table]
        names = [c for c, _ in columns]
        if names != [c for c, _ in want]:
            problems.append(f"{table}: columns {names} != declared {[c for c, _ in want]}")
            continue
        for (column, got), (_, expected) in zip(columns, want, strict=True):
            if expected is not None and got != expected:
                problems.append(f"{table}.{column}: {got}, declared {expected}")
    return problems


def test_fixture_warehouse_has_the_marts_columns_and_types(fixture_warehouse: Path) -> None:
    declared = declared_marts()
    assert schema_drift(fixture_warehouse, declared) == []
    # every mart the report, the export and the summary read is in the fixture
    sources = [report_page.read_report_data, export.export_segment, cli.summary]
    read = {
        name
        for function in sources
        for name in re.findall(r"\b(?:from|join)\s+([a-z_]+)\b", inspect.getsource(function))
        if name in declared
    }
    assert {"customer_segments", "segment_profiles", "segmentation_runs"} <= read
    assert read <= set(TABLES), sorted(read - set(TABLES))


def test_schema_drift_is_caught(fixture_warehouse: Path, tmp_path: Path) -> None:
    drifted = tmp_path / "drifted.duckdb"
    shutil.copy(fixture_warehouse, drifted)
    con = duckdb.connect(str(drifted))
    con.execute("alter table segment_profiles rename column customers to customer_count")
    con.execute("alter table segment_rules alter column rule_support type bigint")
    con.execute("create table segment_extras (x integer)")
    con.close()
    problems = schema_drift(drifted, declared_marts())
    assert len(problems) == 3, problems
    assert any(p.startswith("segment_profiles: columns") for p in problems)
    assert "segment_rules.rule_support: BIGINT, declared INTEGER" in problems
    assert "segment_extras: no mart of that name" in problems


# --- a real demo build and a real Chromium -----------------------------------------------


@pytest.mark.e2e
def test_report_of_a_real_demo_build(demo_build: DbtResult, demo_report_html: Path) -> None:
    page = demo_report_html.read_text(encoding="utf-8")
    check_charts(page)
    check_published_numbers(page, _published(demo_build))
    # the demo build is a first build: no previous run to compare with, one stored build
    assert "No previous run" in _panel(page, "migration")
    assert "Only one stored build so far." in _panel(page, "segment-flow")


@pytest.mark.e2e
def test_chromium_renders_every_chart_without_console_errors(
    demo_build: DbtResult, demo_report_html: Path, tmp_path: Path
) -> None:
    _chromium()
    png = tmp_path / "report.png"
    code = main(
        ["report", "--db", str(_published(demo_build)), "--out", str(tmp_path / "r.html")]
        + ["--screenshot", str(png)]
    )
    assert code == 0  # 1 would mean console errors, 2 a browser failure
    assert screenshot_problems(png) == []
    page = browser.render_page(demo_report_html, evaluate=CHARTS_JS)
    assert page.console_errors == []
    assert all(url.startswith("file://") for url in page.requests), page.requests
    charts = {c["id"]: c for c in page.value}
    assert list(charts) == list(CHART_IDS)
    for chart_id, chart in charts.items():
        assert chart["title"].strip(), chart
        if chart_id == "segment-flow" and not chart["svg_width"]:
            # a first build: the panel is a note, not an empty chart
            assert chart["width"] > 500 and chart["note"].startswith(FLOW_NOTES), chart
            continue
        assert chart["width"] > 500 and chart["height"] > 200, chart
        if chart_id in SVG_CHARTS:
            assert chart["svg_width"] > 400 and chart["svg_marks"] >= 1, chart
            assert chart["svg_axis_labels"] >= 2, chart
        else:
            assert chart["table_rows"] >= 1, chart


@pytest.mark.e2e
def test_console_error_and_blank_page_checks_can_fail(report_html: Path, tmp_path: Path) -> None:
    _chromium()
    broken = tmp_path / "broken.html"
    injected = (
        '<script>console.error("shopseg-injected"); throw new Error("boom")</script>'
        '<img alt="" src="https://example.invalid/pixel.png"></body>'
    )
    broken.write_text(report_html.read_text(encoding="utf-8").replace("</body>", injected))
    page = browser.render_page(broken)
    assert any("shopseg-injected" in e for e in page.console_errors), page.console_errors
    assert any("boom" in e for e in page.console_errors), page.console_errors
    assert any(url.startswith("https://example.invalid") for url in page.requests)
    blank = tmp_path / "blank.html"
    blank.write_text("<!DOCTYPE html><html><body></body></html>")
    shot = tmp_path / "blank.png"
    assert browser.render_page(blank, screenshot=shot).console_errors == []
    problems = screenshot_problems(shot)
    assert any("blank" in p for p in problems) and any("segment colours" in p for p in problems)


def test_prediction_panels_show_churn_risk_and_the_backtest_calibration(
    fixture_warehouse: Path, report_html: Path
) -> None:
    page = report_html.read_text(encoding="utf-8")
    con = duckdb.connect(str(fixture_warehouse), read_only=True)
    profiles = con.execute(
        "select segment_id, mean_p_no_order, at_risk_revenue, expected_revenue "
        "from segment_profiles order by segment_id"
    ).df()
    deciles = con.execute("select * from prediction_calibration order by decile").df()
    (auc,) = con.execute("select auc from prediction_runs").fetchone()
    con.close()
    churn = _panel(page, "churn-risk")
    for row in profiles.itertuples():
        text = f"{100 * row.mean_p_no_order:.0f}% · {float(row.at_risk_revenue):,.0f} of "
        assert text + f"{float(row.expected_revenue):,.0f}" in churn
    calibration = _panel(page, "calibration")
    assert calibration.count("<circle") == len(deciles) == 10
    for row in deciles.itertuples():
        assert f"predicted {100 * row.predicted_share:.1f}%" in calibration
        assert f"observed {100 * row.observed_share:.1f}%" in calibration
    assert f"AUC {auc:.3f}" in calibration
    assert _axis_label(calibration, "x") and _axis_label(calibration, "y")


def test_prediction_panels_say_when_a_build_has_no_predictions(
    fixture_warehouse: Path, tmp_path: Path
) -> None:
    db = tmp_path / "no_predictions.duckdb"
    shutil.copy(fixture_warehouse, db)
    con = duckdb.connect(str(db))
    con.execute("update segment_profiles set mean_p_no_order = null, expected_revenue = null")
    con.execute("drop table prediction_calibration")
    con.execute("drop table prediction_runs")
    con.close()
    page = _write_report(db, tmp_path / "report.html").read_text(encoding="utf-8")
    assert "no predictions in this build" in _panel(page, "churn-risk")
    assert "no backtest" in _panel(page, "calibration")
    check_charts(page)


# --- audience limit, segment flow and category affinity ----------------------------------


def test_segments_under_the_audience_limit_are_marked_as_export_refuses_them(
    fixture_warehouse: Path, tmp_path: Path
) -> None:
    no_consent = tmp_path / "no_consent.duckdb"  # export then filters no consent
    shutil.copy(fixture_warehouse, no_consent)
    con = duckdb.connect(str(no_consent))
    con.execute("update customer_segments set accepts_marketing = null")
    con.close()
    for db in (fixture_warehouse, no_consent):
        counts = exportable(db)
        ordered = sorted(counts.values())
        limit = ordered[2]  # two segments below it, one exactly at it, one above
        assert ordered[1] < limit < ordered[3], ordered
        out = tmp_path / "report.html"
        argv = ["report", "--db", str(db), "--out", str(out)]
        assert main([*argv, "--min-audience-size", str(limit)]) == 0
        page = out.read_text(encoding="utf-8")
        check_audience_marks(page, db, limit)
        assert "⚠ 2 of 4 segments under the" in _panel(page, "segment-sizes")
        for segment_id, n in counts.items():
            target = tmp_path / f"segment_{segment_id}.csv"
            if n < limit:  # marked: export refuses it
                with pytest.raises(ValueError, match=f"has {n} customers to export"):
                    export.export_segment(
                        db, None, target, segment_id=segment_id, min_audience_size=limit
                    )
            else:
                result = export.export_segment(
                    db, None, target, segment_id=segment_id, min_audience_size=limit
                )
                assert result.rows == n
    # the default limit is export's: every segment of the 400-customer fixture is under it
    page = _write_report(fixture_warehouse, tmp_path / "default.html").read_text("utf-8")
    check_audience_marks(page, fixture_warehouse, MIN_AUDIENCE_SIZE)
    assert "⚠ 4 of 4 segments under the 1,000-customer audience limit" in page


def test_the_flow_panel_adds_up_to_the_transitions(
    fixture_warehouse: Path, report_html: Path
) -> None:
    page = report_html.read_text(encoding="utf-8")
    check_flow(page, fixture_warehouse)  # blocks and bands against segment_transitions
    flow = _panel(page, "segment-flow")
    assert "all 3 stored builds" in flow
    moves = _query(fixture_warehouse, "select * from segment_transitions")
    both = moves.dropna(subset=["from_segment_id", "to_segment_id"])
    stayed = both.loc[both["from_segment_id"] == both["to_segment_id"], "customers"].sum()
    total = both["customers"].sum()
    assert f"({total:,} over the gaps shown, {100 * stayed / total:.1f}% stayed)" in flow
    # the fixture's history is one history: its latest build is the migration matrix, and
    # customer_segment_history's versions give each build's sizes
    latest = both[both["build_seq"] == moves["build_seq"].max()]
    migration = _query(fixture_warehouse, "select * from segment_migration")
    key = ["from_segment_id", "to_segment_id", "customers"]
    assert sorted(map(tuple, latest[key].astype(int).to_numpy())) == sorted(
        map(tuple, migration[key].astype(int).to_numpy())
    )
    history = _query(fixture_warehouse, "select * from customer_segment_history")
    builds = moves.groupby("build_seq")["as_of_at"].first()
    for build_seq, as_of in builds.items():
        valid = history[
            (history["build_seq"] <= build_seq)
            & (history["valid_to"].isna() | (history["valid_to"] > as_of))
        ]
        assert not valid["customer_id"].duplicated().any()
        arrived = moves[(moves["build_seq"] == build_seq) & moves["to_segment_id"].notna()]
        assert valid.groupby("segment_id").size().to_dict() == {
            int(s): int(n) for s, n in arrived.groupby("to_segment_id")["customers"].sum().items()
        }
    current = history[history["is_current"]].set_index("customer_id")["segment_id"]
    segments = _query(fixture_warehouse, "select customer_id, segment_id from customer_segments")
    assert (
        current.sort_index().to_dict()
        == segments.set_index("customer_id")["segment_id"].sort_index().to_dict()
    )


def test_the_flow_panel_draws_the_latest_builds(fixture_warehouse: Path) -> None:
    data = read_report_data(fixture_warehouse)
    moves = data.transitions
    # eight builds: the fixture's three, then five more that repeat its last one
    extra = [moves[moves["build_seq"] == 3].assign(build_seq=b) for b in range(4, 9)]
    page = render_report(dataclasses.replace(data, transitions=pd.concat([moves, *extra])))
    flow = _panel(page, "segment-flow")
    assert "the last 6 of 8 stored builds" in flow
    builds = {int(m["build"]) for m in _marks(flow, 'rect class="block"')}
    assert builds == set(range(3, 9))
    assert {int(m["build"]) for m in _marks(flow, 'path class="flow"')} == set(range(4, 9))


def test_the_affinity_panel_lists_the_top_lift_category_per_segment(
    fixture_warehouse: Path, report_html: Path
) -> None:
    page = report_html.read_text(encoding="utf-8")
    check_affinity(page, fixture_warehouse)
    panel = _panel(page, "category-affinity")
    rows = _query(fixture_warehouse, "select * from segment_category_affinity")
    bought = rows[rows["customers"] > 0]
    best = bought.sort_values(
        ["lift", "customers", "category"], ascending=[False, False, True]
    ).drop_duplicates("segment_id")
    firsts = {
        int(sid): _marks(cells, 'td class="affinity"')
        for sid, cells in re.findall(r'<tr data-segment="(\d+)">(.*?)</tr>', panel)
    }
    for r in best.itertuples():
        first = firsts[int(r.segment_id)][0]
        assert first["category"] == r.category and first["rank"] == "1"
        assert f"<b>{r.category}</b> {r.lift:.1f}×" in panel
    # a segment whose customers bought nothing says so instead of ranking lifts of 0
    idle = set(rows["segment_id"]) - set(bought["segment_id"])
    assert idle and all(firsts[int(s)] == [] for s in idle)
    assert panel.count("no purchases by the segment") == len(idle)
    notable = bought[bought["is_notable"] & (bought["affinity_rank"] <= 3)]
    assert 0 < panel.count('class="notable"') == len(notable) < len(bought)


def test_the_fixture_affinity_uses_the_vars_defaults() -> None:
    from fixture_warehouse import AFFINITY_MIN_CUSTOMERS, AFFINITY_MIN_RESIDUAL
    from test_settings_defaults import project_vars

    dbt_vars = project_vars()
    assert dbt_vars["shop_affinity_min_customers"] == AFFINITY_MIN_CUSTOMERS
    assert dbt_vars["shop_affinity_min_residual"] == AFFINITY_MIN_RESIDUAL


def test_a_file_without_history_affinity_or_audience_columns_says_so(
    fixture_warehouse: Path, tmp_path: Path
) -> None:
    db = tmp_path / "old.duckdb"
    shutil.copy(fixture_warehouse, db)
    con = duckdb.connect(str(db))
    for table in ("segment_transitions", "customer_segment_history", "segment_category_affinity"):
        con.execute(f"drop table {table}")
    con.execute("alter table customer_segments drop column is_holdout")
    con.close()
    page = _write_report(db, tmp_path / "report.html").read_text(encoding="utf-8")
    check_charts(page)
    assert "No segment history in this file." in _panel(page, "segment-flow")
    assert "No category affinity in this file" in _panel(page, "category-affinity")
    sizes = _panel(page, "segment-sizes")
    assert "Exportable: unknown" in sizes and "under-audience-limit" not in sizes
    assert "<b>unknown: no audience columns</b>" in page


def test_the_projection_logs_the_features_the_run_logged() -> None:
    rng = np.random.default_rng(0)
    sample = pd.DataFrame(
        {
            "segment_id": rng.integers(1, 4, 400),
            "tenure_days": rng.uniform(0, 1000, 400),  # not skewed: the skew rule keeps it
            "age": rng.normal(40, 10, 400),
        }
    )
    features = ["tenure_days", "age"]
    plain = project_sample(sample, features, {})
    logged = project_sample(sample, features, {"log_features": ["tenure_days"]})
    assert plain is not None and logged is not None
    assert not np.allclose(plain.coords, logged.coords)
