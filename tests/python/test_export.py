"""`shopseg export` picks the segment asked for, and missing files fail in one line.

The selector tests use a tiny hand-made customer_segments table (a segment named like another's
id); the rest read the fixture warehouse (no dbt) and, once, a real demo build.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from conftest import DbtResult

from shopseg.cli import main
from shopseg.export import find_segment

SHOPSEG = str(Path(sys.executable).with_name("shopseg"))
# segment 2 was renamed "3" by the overrides seed: "3" is an id and a name
SEGMENTS = {1: "Loyal regulars", 2: "3", 3: "Bargain hunters"}


@pytest.fixture
def published(tmp_path: Path) -> Path:
    """A published file with a customer_segments table: customers c<segment>_<n>."""
    path = tmp_path / "published.duckdb"
    rows = [
        (f"c{segment_id}_{n}", segment_id, name, "run-1")
        for segment_id, name in SEGMENTS.items()
        for n in range(segment_id + 1)
    ]
    con = duckdb.connect(str(path))
    con.execute(
        "create table customer_segments (customer_id varchar, segment_id integer, "
        "segment_name varchar, run_id varchar)"
    )
    con.executemany("insert into customer_segments values (?, ?, ?, ?)", rows)
    con.close()
    return path


def shopseg(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([SHOPSEG, *args], capture_output=True, text=True, timeout=120)


def exported(path: Path) -> set[tuple[str, int, str]]:
    frame = pd.read_csv(path, dtype={"customer_id": str, "segment_name": str})
    return set(zip(frame["customer_id"], frame["segment_id"], frame["segment_name"], strict=True))


def test_segment_id_and_segment_name_pick_different_segments(
    published: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    by_id, by_name = tmp_path / "id.csv", tmp_path / "name.csv"
    assert main(["export", "--db", str(published), "--segment-id", "3", "--out", str(by_id)]) == 0
    assert exported(by_id) == {(f"c3_{n}", 3, "Bargain hunters") for n in range(4)}
    assert capsys.readouterr().out == f"wrote 4 customers of segment id 3 to {by_id}\n"
    db = ["export", "--db", str(published)]
    assert main([*db, "--segment-name", "3", "--out", str(by_name)]) == 0
    assert exported(by_name) == {(f"c2_{n}", 2, "3") for n in range(3)}
    assert capsys.readouterr().out == f"wrote 3 customers of the segment named '3' to {by_name}\n"


def test_ambiguous_segment_is_refused_naming_both(published: Path, tmp_path: Path) -> None:
    out = tmp_path / "x.csv"
    done = shopseg("export", "--db", str(published), "--segment", "3", "--out", str(out))
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == (
        "shopseg: export: --segment '3' is ambiguous: it is the id of segment 3 "
        "('Bargain hunters') and the name of segment 2: use --segment-id 3 or "
        "--segment-name '3'\n"
    )
    assert not out.exists()


@pytest.mark.parametrize("value, segment_id", [("1", 1), ("Loyal regulars", 1), ("2", 2)])
def test_unambiguous_segment_still_works(
    published: Path, tmp_path: Path, value: str, segment_id: int
) -> None:
    out = tmp_path / "x.csv"
    assert main(["export", "--db", str(published), "--segment", value, "--out", str(out)]) == 0
    assert {row[1] for row in exported(out)} == {segment_id}


def test_unknown_segment_and_two_selectors_are_refused(published: Path, tmp_path, capsys) -> None:
    out = str(tmp_path / "x.csv")
    assert main(["export", "--db", str(published), "--segment-id", "9", "--out", out]) == 2
    assert capsys.readouterr().err == (
        f"shopseg: export: no segment id 9 in {published} "
        "(segments: 1: Loyal regulars; 2: 3; 3: Bargain hunters)\n"
    )
    assert main(["export", "--db", str(published), "--segment-name", "Loyal", "--out", out]) == 2
    assert "no segment named 'Loyal'" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exited:
        main(["export", "--db", str(published), "--segment-id", "1", "--segment", "1"])
    assert exited.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err


def test_a_name_shared_by_two_segments_asks_for_the_id() -> None:
    segments = [(1, "Regulars"), (2, "Regulars"), (3, "New")]
    with pytest.raises(ValueError, match=r"2 segments are named 'Regulars' .*use --segment-id"):
        find_segment(segments, segment_name="Regulars")
    assert find_segment(segments, segment_id=2) == 2
    assert find_segment(segments, segment="3") == 3


@pytest.mark.parametrize(
    "command",
    [
        ["export", "--segment-id", "1", "--out", "x.csv"],
        ["summary"],
        ["report", "--out", "x.html"],
    ],
)
def test_missing_db_file_is_one_line(tmp_path: Path, command: list[str]) -> None:
    missing = tmp_path / "missing.duckdb"
    done = subprocess.run(
        [SHOPSEG, *command, "--db", str(missing)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert done.returncode == 2
    assert done.stderr == f"shopseg: {missing}: no such file\n"
    assert not missing.exists() and sorted(tmp_path.iterdir()) == []


def _segments(db: Path) -> pd.DataFrame:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(
            "select customer_id, segment_id, segment_name, run_id from customer_segments"
        ).df()
    finally:
        con.close()


def test_export_writes_every_customer_of_the_segment(
    fixture_warehouse: Path, tmp_path: Path
) -> None:
    segments = _segments(fixture_warehouse)
    assert segments["segment_id"].nunique() >= 3
    for segment_id, expected in segments.groupby("segment_id"):
        out = tmp_path / f"segment_{segment_id}.csv"
        db = ["export", "--db", str(fixture_warehouse), "--out", str(out)]
        assert main([*db, "--segment-id", str(segment_id)]) == 0
        frame = pd.read_csv(out, dtype={"customer_id": str, "segment_name": str, "run_id": str})
        assert list(frame.columns) == ["customer_id", "segment_id", "segment_name", "run_id"]
        assert frame["customer_id"].tolist() == sorted(expected["customer_id"])
        assert set(frame["segment_id"]) == {segment_id}
        assert set(frame["run_id"]) == set(expected["run_id"])


def test_export_to_parquet_by_name(fixture_warehouse: Path, tmp_path: Path) -> None:
    segments = _segments(fixture_warehouse)
    name = segments["segment_name"].iloc[0]
    out = tmp_path / "x.parquet"
    db = ["export", "--db", str(fixture_warehouse), "--format", "parquet", "--out", str(out)]
    assert main([*db, "--segment-name", name]) == 0
    frame = pd.read_parquet(out)
    expected = segments[segments["segment_name"] == name]
    assert sorted(frame["customer_id"]) == sorted(expected["customer_id"])
    assert set(frame["segment_name"]) == {name}


@pytest.mark.e2e
def test_export_of_a_real_demo_build(demo_build: DbtResult, tmp_path: Path) -> None:
    published = demo_build.db_path.parent / "shopseg_published.duckdb"
    segments = _segments(published)
    largest = segments["segment_name"].value_counts().index[0]
    out = tmp_path / "largest.csv"
    done = shopseg("export", "--db", str(published), "--segment", largest, "--out", str(out))
    assert done.returncode == 0, done.stderr
    expected = segments[segments["segment_name"] == largest]
    assert exported(out) == set(
        zip(expected["customer_id"], expected["segment_id"], expected["segment_name"], strict=True)
    )
