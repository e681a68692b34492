"""The evaluation harness end to end: real dbt builds of two small families, the table."""

from __future__ import annotations

import re

import duckdb
import pandas as pd
import pytest
from conftest import PROJECT

from shopseg.evaluate import harness

pytestmark = pytest.mark.e2e


def test_harness_writes_the_table(tmp_path) -> None:
    out = tmp_path / "eval.md"
    code = harness.main(
        [
            "--families",
            "demo,electronics_no_demographics",
            "--customers",
            "400",
            "--bootstrap",
            "2",
            "--project-dir",
            str(PROJECT),
            "--work",
            str(tmp_path / "work"),
            "--out",
            str(out),
        ]
    )
    assert code == 0
    tables = _tables(out.read_text())
    assert [header for header, _ in tables] == [harness.COLUMNS, harness.INTEREST_COLUMNS]
    rows, interests = (rows for _, rows in tables)
    assert set(rows) == set(interests) == {"demo", "electronics_no_demographics"}
    for cells in rows.values():
        assert int(cells["customers"].replace(",", "")) >= 400
        assert int(cells["planted personas"]) >= 5
        assert 2 <= int(cells["chosen k"]) <= 8
        for column in ("ARI vs personas", "silhouette", "bootstrap stability"):
            assert -1 <= float(cells[column]) <= 1, (column, cells)
        assert 0 < float(cells["smallest segment share"]) <= 1
        assert float(cells["build seconds"]) > 0
        assert re.match(r"ok|failed: ", cells["build"])
    assert "noise customers are" in out.read_text()  # the ARI definition is stated
    # the interests table: read from each build's marts, the favourites from its personas
    for family, cells in interests.items():
        db = tmp_path / "work" / family / "build" / "shopseg.duckdb"
        con = duckdb.connect(str(db), read_only=True)
        try:
            run = con.execute(
                "select hit_rate, popularity_hit_rate, segment_hit_rate, evaluated_customers"
                f" from {harness.MARTS}.recommendation_runs"
            ).fetchone()
            segments = con.execute(
                f"select customer_id, segment_id from {harness.MARTS}.customer_segments"
            ).df()
            affinity = con.execute(
                "select segment_id, category, affinity_rank"
                f" from {harness.MARTS}.segment_category_affinity"
            ).df()
        finally:
            con.close()
        for column, value in zip(harness.INTEREST_COLUMNS[2:5], run[:3], strict=True):
            assert cells[column] == f"{value:.3f}", (family, column)
        assert int(cells["evaluated customers"].replace(",", "")) == run[3] > 0
        truth = harness.write_family(family, 400, tmp_path / "again" / family)
        favourites = harness.planted_favourites(family)
        assert len(favourites) >= 5
        found = harness.favourites_found(segments, truth, affinity, favourites)
        assert cells["planted favourites found"] == f"{found}/{len(favourites)}"
        print(f"\n{family} (400 customers): {cells}")
    assert "planted favourites found" in out.read_text()  # the definition is stated


def _tables(text: str) -> list[tuple[tuple[str, ...], dict[str, dict[str, str]]]]:
    """Each markdown table of a page: its header and its rows by family."""
    tables, header = [], None
    for line in text.splitlines():
        if not line.startswith("|"):
            header = None
            continue
        cells = [c.strip() for c in line.strip("|").split("|")]
        if header is None:
            header = tuple(cells)
            tables.append((header, {}))
        elif set(line) != {"|", "-"}:
            tables[-1][1][cells[0]] = dict(zip(header, cells, strict=True))
    return tables


def test_favourites_found_matches_personas_to_their_segments() -> None:
    truth = pd.DataFrame({"customer_id": list("abcdef"), "persona": list("xxxyyz")})
    segments = pd.DataFrame({"customer_id": list("abcdef"), "segment_id": [1, 1, 2, 2, 2, 3]})
    affinity = pd.DataFrame(
        {
            "segment_id": [1, 1, 2, 2, 3],
            "category": ["tea", "cake", "jam", "tea", "tea"],
            "affinity_rank": [1, 4, 1, 2, 1],
        }
    )
    # x's segment is 1 (two of three), y's 2; cake is 1's fourth by lift: not among the top 3
    assert harness.favourites_found(segments, truth, affinity, {"x": "tea", "y": "tea"}) == 2
    assert harness.favourites_found(segments, truth, affinity, {"x": "cake", "y": "jam"}) == 1
    assert harness.favourites_found(segments, truth, affinity, {"x": "cake"}, top=4) == 1
    assert harness.favourites_found(segments, truth, affinity, {"w": "tea"}) == 0  # no customers
    cdnow = harness.FamilyResult("cdnow", has_categories=False)
    assert cdnow.interest_cells() == ["cdnow", "n/a", "n/a", "n/a", "n/a", "n/a"]


def test_unknown_family_is_refused(capsys) -> None:
    with pytest.raises(SystemExit):
        harness.main(["--families", "nope", "--project-dir", str(PROJECT)])
    assert "unknown families nope" in capsys.readouterr().err


def test_cdnow_without_a_wheel_is_refused(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.delenv("SHOPSEG_CDNOW_WHEEL", raising=False)
    code = harness.main(["--families", "cdnow", "--project-dir", str(PROJECT)])
    assert code == 2
    assert "--cdnow-wheel" in capsys.readouterr().err


def test_vars_reach_every_build_and_the_page_states_them(tmp_path, monkeypatch, capsys) -> None:
    with pytest.raises(SystemExit):
        harness.main(["--vars", "[1]", "--project-dir", str(PROJECT)])
    assert "expected a JSON object" in capsys.readouterr().err
    given = []
    monkeypatch.setattr(harness, "write_family", lambda *args: None)
    monkeypatch.setattr(
        harness, "run_build", lambda *args: given.append(args[4]) or (0.0, "failed: x")
    )
    out = tmp_path / "eval.md"
    arguments = ["--families", "demo", "--project-dir", str(PROJECT), "--work", str(tmp_path)]
    vars_ = '{"shop_k": 4, "shop_bootstrap_resamples": 3}'
    assert harness.main([*arguments, "--bootstrap", "0", "--vars", vars_, "--out", str(out)]) == 0
    assert given == [{"shop_k": 4, "shop_bootstrap_resamples": 0}]  # --bootstrap wins
    assert "- `shop_k`: `4`" in out.read_text()
    assert "- `shop_bootstrap_resamples`: `0`" in out.read_text()
    assert harness.main([*arguments, "--out", str(out)]) == 0
    assert given[-1] is None and "with its\ndefault settings" in out.read_text()
