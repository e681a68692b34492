"""`shopseg export` picks the segment asked for, writes only the customers a campaign may
reach (no holdout group, consent when known, audiences large enough), and missing files fail
in one line.

The selector tests use a tiny hand-made customer_segments table (a segment named like another's
id) and --min-audience-size 0; the rest read the fixture warehouse (no dbt), a real demo build,
and once a one-view dbt run of stg_shop__customers (the SQL's email hash and consent parsing).
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from conftest import PROJECT, DbtResult
from fixture_warehouse import email

from shopseg.cli import main, summary
from shopseg.export import (
    HOLDOUT_SALT,
    HOLDOUT_SHARE,
    MIN_AUDIENCE_SIZE,
    email_sha256,
    find_segment,
    holdout_flags,
    normalise_email,
)

SHOPSEG = str(Path(sys.executable).with_name("shopseg"))
# the tiny tables' segments hold 2-4 customers: no minimum audience size
ANY_SIZE = ["--min-audience-size", "0"]
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
        "segment_name varchar, run_id varchar, is_holdout boolean default false, "
        "accepts_marketing boolean, email_sha256 varchar)"
    )
    con.executemany(
        "insert into customer_segments (customer_id, segment_id, segment_name, run_id) "
        "values (?, ?, ?, ?)",
        rows,
    )
    con.close()
    return path


def shopseg(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([SHOPSEG, *args], capture_output=True, text=True, timeout=120)


def first_line(capsys: pytest.CaptureFixture[str]) -> str:
    return capsys.readouterr().out.splitlines()[0]


def exported(path: Path) -> set[tuple[str, int, str]]:
    frame = pd.read_csv(path, dtype={"customer_id": str, "segment_name": str})
    return set(zip(frame["customer_id"], frame["segment_id"], frame["segment_name"], strict=True))


def test_segment_id_and_segment_name_pick_different_segments(
    published: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    by_id, by_name = tmp_path / "id.csv", tmp_path / "name.csv"
    db = ["export", "--db", str(published), *ANY_SIZE]
    assert main([*db, "--segment-id", "3", "--out", str(by_id)]) == 0
    assert exported(by_id) == {(f"c3_{n}", 3, "Bargain hunters") for n in range(4)}
    assert capsys.readouterr().out.splitlines() == [
        f"wrote 4 customers of segment id 3 to {by_id}",
        "segment 3 ('Bargain hunters'): 4 customers, 0 in the holdout group "
        "(0.0%; shop_holdout_share)",
        "left out: 0 holdout customers (--include-holdout keeps them)",
        "consent not checked: no customer has an accepts_marketing value in the input",
    ]
    assert main([*db, "--segment-name", "3", "--out", str(by_name)]) == 0
    assert exported(by_name) == {(f"c2_{n}", 2, "3") for n in range(3)}
    assert first_line(capsys) == f"wrote 3 customers of the segment named '3' to {by_name}"


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
    db = ["export", "--db", str(published), *ANY_SIZE]
    assert main([*db, "--segment", value, "--out", str(out)]) == 0
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


def test_summary_shows_the_bootstrap_figures(fixture_warehouse: Path) -> None:
    con = duckdb.connect(str(fixture_warehouse), read_only=True)
    try:
        stability = con.execute(
            "select bootstrap_stability from segmentation_runs where is_current"
        ).fetchone()[0]
        profiles = con.execute(
            "select segment_name, segment_jaccard, is_reproducible from segment_profiles"
        ).fetchall()
    finally:
        con.close()
    text = summary(str(fixture_warehouse)).splitlines()
    assert f"bootstrap stability = {stability:.3f}" in text[1]
    for name, jaccard, reproducible in profiles:
        (line,) = [row for row in text if f"  {name}  " in row]
        assert f" {jaccard:.2f}{'' if reproducible else '!'} " in line
    assert any(not reproducible for _, _, reproducible in profiles)  # the fixture has one
    assert "!: the segment does not reproduce" in text[-3]


def _segments(db: Path) -> pd.DataFrame:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(
            "select customer_id, segment_id, segment_name, run_id, is_holdout, "
            "accepts_marketing, email_sha256 from customer_segments"
        ).df()
    finally:
        con.close()


def reachable(segments: pd.DataFrame) -> pd.DataFrame:
    """The customers an export writes by default: consenting and not in the holdout group."""
    consent = segments["accepts_marketing"].fillna(False).astype(bool)
    return segments[consent & ~segments["is_holdout"].astype(bool)]


def test_export_writes_the_reachable_customers_of_the_segment(
    fixture_warehouse: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    segments = _segments(fixture_warehouse)
    assert segments["segment_id"].nunique() >= 3
    for segment_id, group in segments.groupby("segment_id"):
        out = tmp_path / f"segment_{segment_id}.csv"
        db = ["export", "--db", str(fixture_warehouse), "--out", str(out), *ANY_SIZE]
        assert main([*db, "--segment-id", str(segment_id)]) == 0
        frame = pd.read_csv(out, dtype={"customer_id": str, "segment_name": str, "run_id": str})
        assert list(frame.columns) == ["customer_id", "segment_id", "segment_name", "run_id"]
        assert frame["customer_id"].tolist() == sorted(reachable(group)["customer_id"])
        assert set(frame["segment_id"]) == {segment_id}
        assert set(frame["run_id"]) == set(group["run_id"])
        # the summary names the segment's holdout share and counts each reason left out
        consent = group["accepts_marketing"].fillna(False).astype(bool)
        holdout = group["is_holdout"].astype(bool)
        lines = capsys.readouterr().out.splitlines()
        assert lines[1].endswith(
            f"{len(group)} customers, {holdout.sum()} in the holdout group "
            f"({holdout.mean():.1%}; shop_holdout_share)"
        )
        assert lines[2] == (
            f"left out: {(consent & holdout).sum()} holdout customers (--include-holdout "
            f"keeps them), {(~consent).sum()} without marketing consent"
        )
        assert len(frame) == len(group) - (consent & holdout).sum() - (~consent).sum()


def test_export_to_parquet_by_name(fixture_warehouse: Path, tmp_path: Path) -> None:
    segments = _segments(fixture_warehouse)
    name = segments["segment_name"].iloc[0]
    out = tmp_path / "x.parquet"
    db = ["export", "--db", str(fixture_warehouse), "--format", "parquet", "--out", str(out)]
    assert main([*db, "--segment-name", name, *ANY_SIZE]) == 0
    frame = pd.read_parquet(out)
    expected = reachable(segments[segments["segment_name"] == name])
    assert sorted(frame["customer_id"]) == sorted(expected["customer_id"])
    assert set(frame["segment_name"]) == {name}


def test_holdout_flags_follow_the_salted_hash() -> None:
    ids = [str(i) for i in range(20000)]
    flags = holdout_flags(ids)
    assert abs(flags.mean() - HOLDOUT_SHARE) < 0.01
    # the rule spelled out: md5 of salt + id, first 8 hex digits below share * 2^32
    digest = hashlib.md5(b"shopseg42").hexdigest()
    assert flags[42] == (int(digest[:8], 16) < 0.1 * 2**32)
    # the same ids in another order get the same flags; another salt draws another group
    assert list(holdout_flags(ids[::-1])) == list(flags[::-1])
    other = holdout_flags(ids, salt="campaign-2")
    assert abs(other.mean() - HOLDOUT_SHARE) < 0.01 and (other != flags).any()
    assert not holdout_flags(ids, share=0).any() and holdout_flags(ids, share=1).all()


def test_holdout_is_left_out_kept_or_written_separately(
    fixture_warehouse: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    segments = _segments(fixture_warehouse)
    # the fixture's flags are the library's rule with the default vars
    assert list(segments["is_holdout"]) == list(holdout_flags(segments["customer_id"]))
    segment_id, group = next(iter(segments.groupby("segment_id")))
    consenting = group[group["accepts_marketing"].fillna(False).astype(bool)]
    held = consenting[consenting["is_holdout"]]
    assert len(held) > 0
    out, holdout_file = tmp_path / "audience.csv", tmp_path / "holdout.parquet"
    db = ["export", "--db", str(fixture_warehouse), "--segment-id", str(segment_id), *ANY_SIZE]
    assert main([*db, "--out", str(out), "--include-holdout"]) == 0
    assert set(pd.read_csv(out, dtype={"customer_id": str})["customer_id"]) == set(
        consenting["customer_id"]
    )
    assert "left out: 0 holdout customers" in capsys.readouterr().out
    assert main([*db, "--out", str(out), "--holdout-file", str(holdout_file)]) == 0
    assert sorted(pd.read_parquet(holdout_file)["customer_id"]) == sorted(held["customer_id"])
    written = set(pd.read_csv(out, dtype={"customer_id": str})["customer_id"])
    assert written == set(consenting["customer_id"]) - set(held["customer_id"])
    assert capsys.readouterr().out.splitlines()[-1] == (
        f"wrote {len(held)} holdout customers to {holdout_file}"
    )
    with pytest.raises(SystemExit):
        main([*db, "--out", str(out), "--include-holdout", "--holdout-file", str(holdout_file)])
    assert "not allowed with argument" in capsys.readouterr().err


def test_a_segment_below_the_minimum_audience_size_is_refused(
    fixture_warehouse: Path, tmp_path: Path
) -> None:
    segments = _segments(fixture_warehouse)
    segment_id, group = next(iter(segments.groupby("segment_id")))
    size, out = len(reachable(group)), tmp_path / "x.csv"
    name = group["segment_name"].iloc[0]
    # the default (1,000) refuses every segment of the 400-customer fixture
    done = shopseg("export", "--db", str(fixture_warehouse), "--segment-id", str(segment_id))
    assert done.returncode == 2  # --out is missing: argparse
    base = ["export", "--db", str(fixture_warehouse), "--segment-id", str(segment_id)]
    done = shopseg(*base, "--out", str(out))
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == (
        f"shopseg: export: segment {segment_id} ({name!r}) has {size} customers to export "
        f"(of {len(group)}), fewer than shop_min_audience_size = {MIN_AUDIENCE_SIZE} "
        "(--min-audience-size): nothing written\n"
    )
    assert not out.exists()
    assert main([*base, "--out", str(out), "--min-audience-size", str(size + 1)]) == 2
    assert not out.exists()
    assert main([*base, "--out", str(out), "--min-audience-size", str(size)]) == 0
    assert len(pd.read_csv(out)) == size


def test_the_export_defaults_are_the_vars_defaults() -> None:
    from test_settings_defaults import project_vars, readme_settings

    dbt_vars = project_vars()
    readme = readme_settings((PROJECT / "README.md").read_text())
    expected = {
        "shop_holdout_salt": HOLDOUT_SALT,
        "shop_holdout_share": HOLDOUT_SHARE,
        "shop_min_audience_size": MIN_AUDIENCE_SIZE,
    }
    assert {var: dbt_vars.get(var) for var in expected} == expected
    assert {var: readme.get(var) for var in expected} == expected


def test_consent_filters_only_when_the_input_has_it(
    fixture_warehouse: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    segments = _segments(fixture_warehouse)
    values = segments["accepts_marketing"]
    assert values.isna().any() and values.eq(False).any() and values.eq(True).any()
    refused = segments[~values.fillna(False).astype(bool)]
    out = tmp_path / "everyone.csv"
    written = []
    for segment_id in sorted(segments["segment_id"].unique()):
        db = ["export", "--db", str(fixture_warehouse), "--segment-id", str(segment_id)]
        assert main([*db, "--out", str(out), "--include-holdout", *ANY_SIZE]) == 0
        written += list(pd.read_csv(out, dtype={"customer_id": str})["customer_id"])
        line = capsys.readouterr().out.splitlines()[2]
        left = (refused["segment_id"] == segment_id).sum()
        assert line.endswith(f", {left} without marketing consent")
    assert set(written) == set(segments["customer_id"]) - set(refused["customer_id"])

    # without any accepts_marketing value (the column absent from the input) nobody is left out
    copy = tmp_path / "no_consent.duckdb"
    shutil.copy(fixture_warehouse, copy)
    con = duckdb.connect(str(copy))
    con.execute("update customer_segments set accepts_marketing = null")
    con.close()
    segment_id = int(segments["segment_id"].iloc[0])
    db = ["export", "--db", str(copy), "--segment-id", str(segment_id), "--include-holdout"]
    assert main([*db, "--out", str(out), *ANY_SIZE]) == 0
    assert len(pd.read_csv(out)) == (segments["segment_id"] == segment_id).sum()
    assert capsys.readouterr().out.splitlines()[-1] == (
        "consent not checked: no customer has an accepts_marketing value in the input"
    )


def test_customer_match_writes_the_hashes_of_the_normalised_emails(
    fixture_warehouse: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    segments = _segments(fixture_warehouse)
    segment_id, group = next(iter(segments.groupby("segment_id")))
    audience = reachable(group)
    out = tmp_path / "match.csv"
    db = ["export", "--db", str(fixture_warehouse), "--segment-id", str(segment_id)]
    assert main([*db, "--format", "customer-match", "--out", str(out), *ANY_SIZE]) == 0
    frame = pd.read_csv(out, dtype=str)
    assert list(frame.columns) == ["Email"]
    expected = {
        hashlib.sha256(email(c).strip(" ").lower().encode()).hexdigest()
        for c in audience["customer_id"]
        if email(c) is not None
    }
    assert frame["Email"].tolist() == sorted(expected)
    assert all(len(h) == 64 and h == h.lower() for h in frame["Email"])
    out_text = capsys.readouterr().out
    assert out_text.startswith(f"wrote {len(expected)} hashed emails of segment id {segment_id}")
    without = sum(email(c) is None for c in audience["customer_id"])
    assert without > 0 and f", {without} without an email" in out_text


def test_email_normalisation() -> None:
    assert normalise_email("  Ann.Lee@Example.COM ") == "ann.lee@example.com"
    assert normalise_email("   ") is None and normalise_email(None) is None
    assert email_sha256(" A@B.C") == hashlib.sha256(b"a@b.c").hexdigest()
    assert email_sha256("") is None


def test_an_old_published_file_without_the_audience_columns_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = tmp_path / "old.duckdb"
    con = duckdb.connect(str(old))
    con.execute("create table customer_segments as select '1' as customer_id, 1 as segment_id")
    con.close()
    out = tmp_path / "x.csv"
    assert main(["export", "--db", str(old), "--segment-id", "1", "--out", str(out)]) == 2
    assert capsys.readouterr().err == (
        f"shopseg: export: customer_segments in {old} has no is_holdout, accepts_marketing, "
        "email_sha256 column: rebuild it with this version of shopseg (dbt build)\n"
    )
    assert not out.exists()


@pytest.mark.e2e
def test_export_of_a_real_demo_build(demo_build: DbtResult, tmp_path: Path) -> None:
    published = demo_build.db_path.parent / "shopseg_published.duckdb"
    segments = _segments(published)
    # the demo has no consent column: only the holdout group is left out
    assert segments["accepts_marketing"].isna().all()
    assert abs(segments["is_holdout"].mean() - HOLDOUT_SHARE) <= 0.01
    for _, group in segments.groupby("segment_id"):
        assert abs(group["is_holdout"].mean() - HOLDOUT_SHARE) < 0.05
    largest = segments["segment_name"].value_counts().index[0]
    out, holdout_file = tmp_path / "largest.csv", tmp_path / "holdout.csv"
    done = shopseg(
        "export", "--db", str(published), "--segment", largest, "--out", str(out),
        "--holdout-file", str(holdout_file), *ANY_SIZE,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    expected = segments[segments["segment_name"] == largest]
    held = expected["is_holdout"].astype(bool)
    assert exported(out) == set(
        zip(
            expected["customer_id"][~held],
            expected["segment_id"][~held],
            expected["segment_name"][~held],
            strict=True,
        )
    )
    assert len(pd.read_csv(holdout_file)) == held.sum()
    assert f"{held.mean():.1%}; shop_holdout_share" in done.stdout
