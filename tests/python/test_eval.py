"""The evaluation harness end to end: real dbt builds of two small families, the table."""

from __future__ import annotations

import re

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
    lines = [line for line in out.read_text().splitlines() if line.startswith("|")]
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    assert tuple(header) == harness.COLUMNS
    rows = {}
    for line in lines[2:]:
        cells = dict(zip(header, (c.strip() for c in line.strip("|").split("|")), strict=True))
        rows[cells["family"]] = cells
    assert set(rows) == {"demo", "electronics_no_demographics"}
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
