"""The evaluation harness: build this dbt project on each data family and score the segments.

For each family it writes the shop as input files, runs a real `dbt build` into a work
folder, reads `customer_segments`, `segmentation_runs`, `customer_features` and the stored
fit settings from the warehouse, and scores the result: ARI against the planted personas
(noise customers excluded), the build's silhouette, the smallest segment's share and the
bootstrap stability the build stored (`shopseg.stability`, the figure of
`segmentation_runs.bootstrap_stability`). A second table says what the build found of the
planted interests: the recommendation backtest the build stored (`recommendation_runs`) and
whether each persona's planted favourite category is among its segment's top categories by
lift (`segment_category_affinity`). Both tables go to `docs/eval.md`.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd
from sklearn.metrics import adjusted_rand_score

from shopseg.config import SegmentConfig
from shopseg.evaluate import cdnow
from shopseg.evaluate.families import FAMILIES, NOISE, generate_family, write_tables
from shopseg.report.charts import AFFINITY_TOP

SYNTHETIC = ("demo", *FAMILIES)
ALL_FAMILIES = (*SYNTHETIC, "cdnow")
MARTS = "main_shopseg"
COLUMNS = (
    "family",
    "customers",
    "planted personas",
    "chosen k",
    "ARI vs personas",
    "silhouette",
    "smallest segment share",
    "bootstrap stability",
    "build seconds",
    "build",
)
# the second table: the planted interests and the recommendation backtest
INTEREST_COLUMNS = (
    "family",
    "planted favourites found",
    "recommender hit rate",
    "popularity hit rate",
    "segment hit rate",
    "evaluated customers",
)
# a persona's favourite is found when it is among as many of its segment's categories by lift
# as the report's affinity panel shows
FAVOURITE_TOP = AFFINITY_TOP


@dataclass
class FamilyResult:
    """The scores of one family's build."""

    family: str
    customers: int | None = None
    personas: int | None = None
    k: int | None = None
    ari: float | None = None
    silhouette: float | None = None
    smallest_share: float | None = None
    stability: float | None = None
    build_seconds: float | None = None
    build: str = "ok"
    has_categories: bool = True  # false: the shop has no order items (CDNOW), "n/a"
    favourites_found: int | None = None
    favourites_planted: int | None = None
    hit_rate: float | None = None
    popularity_hit_rate: float | None = None
    segment_hit_rate: float | None = None
    evaluated_customers: int | None = None
    extra: dict = field(default_factory=dict)

    def cells(self) -> list[str]:
        """The markdown table cells of this row, in COLUMNS order."""

        def num(value: float | int | None, fmt: str) -> str:
            return "—" if value is None else format(value, fmt)

        return [
            self.family,
            num(self.customers, ","),
            num(self.personas, "d"),
            num(self.k, "d"),
            num(self.ari, ".3f"),
            num(self.silhouette, ".3f"),
            num(self.smallest_share, ".3f"),
            num(self.stability, ".3f"),
            num(self.build_seconds, ".1f"),
            self.build,
        ]

    def interest_cells(self) -> list[str]:
        """The cells of this row in the interests table, in INTEREST_COLUMNS order."""
        if not self.has_categories:
            return [self.family, *["n/a"] * (len(INTEREST_COLUMNS) - 1)]

        def num(value: float | int | None, fmt: str) -> str:
            return "—" if value is None else format(value, fmt)

        found = (
            "—"
            if self.favourites_planted is None
            else f"{num(self.favourites_found, 'd')}/{self.favourites_planted}"
        )
        return [
            self.family,
            found,
            num(self.hit_rate, ".3f"),
            num(self.popularity_hit_rate, ".3f"),
            num(self.segment_hit_rate, ".3f"),
            num(self.evaluated_customers, ","),
        ]


def write_family(
    name: str, customers: int, out: Path, cdnow_wheel: str | Path | None = None
) -> pd.DataFrame | None:
    """Write a family's input files into a folder.

    Parameters
    ----------
    name : str
        ``demo``, ``cdnow`` or one of ``FAMILIES``.
    customers : int
        Customers of a synthetic family (CDNOW has its own 23,570).
    out : Path
        The input folder to write.
    cdnow_wheel : str, Path or None, optional
        Where the lifetimes wheel is, for ``cdnow``.

    Returns
    -------
    pandas.DataFrame or None
        The planted truth (``customer_id``, ``persona`` as text), None for CDNOW.
    """
    out.mkdir(parents=True, exist_ok=True)
    if name == "demo":
        from shopseg import demo

        tables = demo.generate(customers=customers)
        demo.write(tables, out)
        truth = tables["personas"]
    elif name == "cdnow":
        cdnow.read_orders(cdnow_wheel).to_parquet(out / "orders.parquet", index=False)
        return None
    elif name in FAMILIES:
        tables = generate_family(FAMILIES[name], customers)
        write_tables(tables, out)
        truth = tables["personas"]
    else:
        raise ValueError(
            f"shopseg: eval: unknown family {name!r} (one of {', '.join(ALL_FAMILIES)})"
        )
    # the truth stays out of the input folder's tables: no model reads truth/
    return pd.DataFrame(
        {"customer_id": truth["customer_id"].astype(str), "persona": truth["persona"].astype(str)}
    )


def planted_favourites(name: str) -> dict[str, str]:
    """Each ordering persona's planted favourite category (its most preferred), by family.

    Parameters
    ----------
    name : str
        ``demo``, ``cdnow`` or one of ``FAMILIES``.

    Returns
    -------
    dict of str to str
        Persona name to its favourite category; empty for CDNOW and for personas
        without planted interests (those who never order).
    """
    if name == "demo":
        from shopseg.demo.interests import FAVOURITE_CATEGORIES, favourite_categories

        return {
            p: favourite_categories(p)[0] for p in FAVOURITE_CATEGORIES if favourite_categories(p)
        }
    if name in FAMILIES:
        return {p.name: p.favourites[0] for p in FAMILIES[name].personas if p.favourites}
    return {}


def favourites_found(
    segments: pd.DataFrame,
    truth: pd.DataFrame,
    affinity: pd.DataFrame,
    favourites: dict[str, str],
    top: int = FAVOURITE_TOP,
) -> int:
    """Count the personas whose favourite category is among their segment's top by lift.

    Parameters
    ----------
    segments : pandas.DataFrame
        ``customer_id`` and ``segment_id``.
    truth : pandas.DataFrame
        ``customer_id`` and ``persona``.
    affinity : pandas.DataFrame
        ``segment_id``, ``category`` and ``affinity_rank`` (1 = the highest lift), as in
        ``segment_category_affinity``.
    favourites : dict of str to str
        Persona to its planted favourite category.
    top : int, default FAVOURITE_TOP
        How many of the segment's categories by lift count.

    Returns
    -------
    int
        Personas found; a persona's segment is the one holding most of its customers.
    """
    joined = truth.merge(segments, on="customer_id", how="inner")
    tops = affinity[affinity["affinity_rank"] <= top].groupby("segment_id")["category"]
    top_categories = {segment: set(categories) for segment, categories in tops}
    found = 0
    for persona, category in favourites.items():
        members = joined.loc[joined["persona"] == persona, "segment_id"]
        if members.empty:
            continue
        # the most common segment; ties go to the smallest segment id, so reruns agree
        counts = members.value_counts()
        segment = min(counts.index[counts == counts.max()])
        found += category in top_categories.get(segment, set())
    return found


def _dbt_executable() -> str:
    """The dbt next to this Python (the venv's), else the one on PATH."""
    local = Path(sys.executable).with_name("dbt")
    return str(local) if local.exists() else (shutil.which("dbt") or "dbt")


def run_build(
    project: Path,
    input_dir: Path,
    work: Path,
    timeout: float,
    dbt_vars: dict[str, object] | None = None,
) -> tuple[float, str]:
    """Run one ``dbt build`` of a project on an input folder.

    Parameters
    ----------
    project : Path
        The dbt project.
    input_dir : Path
        The input folder (``SHOPSEG_INPUT_PATH``).
    work : Path
        Folder for the warehouse, target and logs.
    timeout : float
        Seconds before the build is stopped.
    dbt_vars : dict, optional
        Vars passed with ``--vars`` (none: the project's defaults).

    Returns
    -------
    seconds : float
        Wall time of the build.
    status : str
        ``ok``, ``timeout after N s``, or ``failed:`` and the failed nodes.
    """
    work.mkdir(parents=True, exist_ok=True)
    db = work / "shopseg.duckdb"
    env = os.environ | {
        "DBT_PROFILES_DIR": str(project / "profiles"),
        "SHOPSEG_TARGET": "duckdb",  # the profile's embedded DuckDB, whatever the shell says
        "SHOPSEG_INPUT_PATH": str(input_dir.resolve()),
        "SHOPSEG_DUCKDB_PATH": str(db.resolve()),
        # never publish an evaluation build to the developer's BI file
        "SHOPSEG_PUBLISH_PATH": str((work / "shopseg_published.duckdb").resolve()),
        "DBT_TARGET_PATH": str((work / "target").resolve()),
        "DBT_LOG_PATH": str((work / "logs").resolve()),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    started = time.perf_counter()
    with (work / "dbt.out").open("w") as log:
        try:
            proc = subprocess.run(
                [_dbt_executable(), "build"]
                + (["--vars", json.dumps(dbt_vars)] if dbt_vars else []),
                cwd=project,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                timeout=timeout,
            )
            code = proc.returncode
        except subprocess.TimeoutExpired:
            return time.perf_counter() - started, f"timeout after {timeout:.0f} s"
    seconds = time.perf_counter() - started
    if code == 0:
        return seconds, "ok"
    return seconds, "failed: " + ", ".join(_failed_nodes(work / "target") or [f"exit {code}"])


def _failed_nodes(target: Path) -> list[str]:
    """Names of the nodes that failed or errored in a build (from run_results.json)."""
    path = target / "run_results.json"
    if not path.exists():
        return []
    results = json.loads(path.read_text())["results"]
    return sorted(r["unique_id"].split(".")[2] for r in results if r["status"] in ("fail", "error"))


@dataclass
class Build:
    """What the harness reads from a built warehouse."""

    segments: pd.DataFrame  # customer_id, segment_id
    run: dict
    features: pd.DataFrame  # customer_id and the fit's feature columns
    config: SegmentConfig
    recommendations: dict | None = None  # recommendation_runs' row; None when not built
    affinity: pd.DataFrame | None = None  # segment_id, category, affinity_rank


def read_build(db: Path) -> Build:
    """Read the current run's segments, metrics, feature rows and fit settings.

    Parameters
    ----------
    db : Path
        The built warehouse, opened read-only.

    Returns
    -------
    Build
        What the scores are computed from.
    """
    con = duckdb.connect(str(db), read_only=True)
    try:
        segments = con.execute(
            f"select customer_id, segment_id from {MARTS}.customer_segments order by customer_id"
        ).df()
        cursor = con.execute(
            f"select k, silhouette, bootstrap_stability, customers, status, features_dropped "
            f"from {MARTS}.segmentation_runs where is_current"
        )
        names = [d[0] for d in cursor.description]
        run = dict(zip(names, cursor.fetchone(), strict=True))
        text = con.execute(
            f"select text_value from {MARTS}.segment_kmeans_fit where record_type = 'run' "
            f"and name = 'config' order by run_seq desc limit 1"
        ).fetchone()[0]
        config = SegmentConfig.from_mapping(json.loads(text))
        present = {r[0] for r in con.execute(f"describe {MARTS}.customer_features").fetchall()}
        columns = ["customer_id", *[c for c in config.features if c in present]]
        quoted = ", ".join(f'"{c}"' for c in columns)
        features = (
            con.sql(f"select {quoted} from {MARTS}.customer_features").to_arrow_table().to_pandas()
        )
        recommendations, affinity = _read_interests(con)
    finally:
        con.close()
    return Build(segments, run, features, config, recommendations, affinity)


def _read_interests(con: duckdb.DuckDBPyConnection) -> tuple[dict | None, pd.DataFrame | None]:
    """The recommendation backtest's row and the segments' category affinities, when built."""
    try:
        cursor = con.execute(
            f"select hit_rate, popularity_hit_rate, segment_hit_rate, evaluated_customers "
            f"from {MARTS}.recommendation_runs"
        )
        names = [d[0] for d in cursor.description]
        row = cursor.fetchone()
        recommendations = None if row is None else dict(zip(names, row, strict=True))
        affinity = con.execute(
            f"select segment_id, category, affinity_rank from {MARTS}.segment_category_affinity"
        ).df()
    except duckdb.CatalogException:  # a failed build left them out: nothing to score
        return None, None
    return recommendations, affinity


def persona_ari(segments: pd.DataFrame, truth: pd.DataFrame) -> float:
    """Return the ARI between segments and planted personas (noise customers left out).

    Parameters
    ----------
    segments : pandas.DataFrame
        ``customer_id`` and ``segment_id``.
    truth : pandas.DataFrame
        ``customer_id`` and ``persona``.

    Returns
    -------
    float
        Adjusted Rand index over the customers in both.
    """
    joined = truth[truth["persona"] != NOISE].merge(segments, on="customer_id", how="inner")
    return float(adjusted_rand_score(joined["persona"], joined["segment_id"]))


def evaluate_family(
    name: str,
    customers: int,
    project: Path,
    work: Path,
    cdnow_wheel: str | Path | None = None,
    resamples: int | None = None,
    timeout: float = 900,
    dbt_vars: dict[str, object] | None = None,
) -> FamilyResult:
    """Write, build and score one family.

    Parameters
    ----------
    name : str
        The family.
    customers : int
        Customers of a synthetic family.
    project : Path
        The dbt project to build.
    work : Path
        Folder for the family's input and build.
    cdnow_wheel : str, Path or None, optional
        Where the lifetimes wheel is, for ``cdnow``.
    resamples : int, optional
        shop_bootstrap_resamples of the build (none: the project's default).
    timeout : float, default 900
        Seconds before the build is stopped.
    dbt_vars : dict, optional
        More vars of the build (``--vars``); `resamples` overrides their
        shop_bootstrap_resamples.

    Returns
    -------
    FamilyResult
        The scores; only the build status when the warehouse could not be read.
    """
    truth = write_family(name, customers, work / "input", cdnow_wheel)
    build_vars = dict(dbt_vars or {})
    if resamples is not None:
        build_vars["shop_bootstrap_resamples"] = resamples
    seconds, status = run_build(
        project, work / "input", work / "build", timeout, build_vars or None
    )
    result = FamilyResult(name, build_seconds=seconds, build=status)
    if truth is not None:
        result.personas = int(truth.loc[truth["persona"] != NOISE, "persona"].nunique())
    db = work / "build" / "shopseg.duckdb"
    try:
        build = read_build(db)
    except (duckdb.Error, TypeError, FileNotFoundError) as exc:  # nothing to score
        result.build = f"{status}; unreadable: {str(exc).splitlines()[0]}"
        return result
    sizes = build.segments["segment_id"].value_counts()
    result.customers = len(build.segments)
    result.k = int(build.run["k"])
    result.silhouette = None if build.run["silhouette"] is None else float(build.run["silhouette"])
    result.smallest_share = float(sizes.min() / sizes.sum())
    if truth is not None:
        result.ari = persona_ari(build.segments, truth)
    stability = build.run["bootstrap_stability"]
    result.stability = None if stability is None else float(stability)
    result.extra = {"features_dropped": build.run["features_dropped"]}
    _score_interests(result, name, build, truth)
    return result


def _score_interests(
    result: FamilyResult, name: str, build: Build, truth: pd.DataFrame | None
) -> None:
    """Fill the interests table's figures of a result from the build."""
    if build.affinity is not None and build.affinity.empty:
        result.has_categories = False  # no order items, so no categories (CDNOW)
        return
    rec = build.recommendations
    if rec is not None:

        def rate(value: float | None) -> float | None:
            return None if value is None else float(value)

        result.hit_rate = rate(rec["hit_rate"])
        result.popularity_hit_rate = rate(rec["popularity_hit_rate"])
        result.segment_hit_rate = rate(rec["segment_hit_rate"])
        result.evaluated_customers = int(rec["evaluated_customers"])
    favourites = planted_favourites(name)
    if truth is not None and favourites and build.affinity is not None:
        result.favourites_planted = len(favourites)
        result.favourites_found = favourites_found(
            build.segments, truth, build.affinity, favourites
        )


def markdown(
    results: list[FamilyResult],
    customers: int,
    resamples: int | None,
    dbt_vars: dict[str, object] | None = None,
) -> str:
    """Write docs/eval.md: how the figures are made, then the two tables.

    Parameters
    ----------
    results : list of FamilyResult
        One per family.
    customers : int
        Customers per synthetic family.
    resamples : int or None
        shop_bootstrap_resamples of the builds (none: the project's default).
    dbt_vars : dict, optional
        The vars every build was given (``--vars``); none: the defaults.

    Returns
    -------
    str
        The markdown page.
    """
    if dbt_vars:
        settings = [
            "real shop's 23,570 customers. Each row is a real `dbt build` of this project on a",
            "fresh DuckDB file, with its default settings except these vars (`--vars`):",
            "",
            *[f"- `{name}`: `{json.dumps(value)}`" for name, value in sorted(dbt_vars.items())],
        ]
    else:
        settings = [
            "real shop's 23,570 customers. Each row is a real `dbt build` of this project with its",
            "default settings, on a fresh DuckDB file.",
        ]
    head = "| " + " | ".join(COLUMNS) + " |"
    rule = "|" + "|".join("---" for _ in COLUMNS) + "|"
    rows = ["| " + " | ".join(r.cells()) + " |" for r in results]
    interest_head = "| " + " | ".join(INTEREST_COLUMNS) + " |"
    interest_rule = "|" + "|".join("---" for _ in INTEREST_COLUMNS) + "|"
    interest_rows = ["| " + " | ".join(r.interest_cells()) + " |" for r in results]
    return "\n".join(
        [
            "# Segment quality on data the project did not shape",
            "",
            "Written by `make eval` (`shopseg eval`, `python -m shopseg.evaluate`); do not edit.",
            f"Synthetic families at {customers:,} customers each (`--customers`); CDNOW is the",
            *settings,
            "",
            "- **demo**: `shopseg.demo.generate`, the generator the defaults were tuned on.",
            "- **grocery**, **fashion_no_events**, **electronics_no_demographics**:",
            "  `shopseg.evaluate.families`, written from other descriptions (a weekly grocer, an",
            "  apparel label without an events table, an electronics store whose customers table",
            "  holds only ids and sign-up times); 6-7 personas each, one at 3%, lognormal or",
            "  Pareto spend, features correlated through per-customer latent traits, customers",
            "  who never order, and 10% noise customers who belong to no persona. Each ordering",
            "  persona has planted interests: one or two favourite categories in a category",
            "  preference drawn from the family's seed (each customer's own around it), and",
            "  some a premium or bargain price position inside a category; noise customers",
            "  pick products uniformly.",
            "- **cdnow**: the CDNOW transactions (1997-1998), orders only, no personas.",
            "",
            "Definitions:",
            "",
            "- *ARI vs personas*: adjusted Rand index between `customer_segments.segment_id`",
            "  and the planted persona, over the customers of a persona: **noise customers are",
            "  excluded** (they have no true group). CDNOW has no personas: no ARI.",
            "- *silhouette*: `segmentation_runs.silhouette` of the current run (the build's own,",
            "  on its silhouette sample).",
            "- *smallest segment share*: the smallest segment's customers / all customers in",
            "  `customer_segments`.",
            "- *bootstrap stability*: `segmentation_runs.bootstrap_stability` of the current run,",
            "  as the build measured it (`shopseg.stability.segment_stability`): "
            + (f"{resamples}" if resamples is not None else "`shop_bootstrap_resamples`"),
            "  refits with the build's settings and k, each on 80% of the fit sample (at most",
            "  `shop_bootstrap_sample_size` customers, drawn without replacement, fixed seeds),",
            "  and the mean ARI between each refit's clusters and the build's segments on the",
            "  refit's customers.",
            "- *build seconds*: wall time of `dbt build` (2 dbt threads), excluding data writing",
            "  and scoring; *build*: `ok`, or the nodes that failed (a failed quality gate; the",
            "  figures are still read from what was built).",
            "",
            head,
            rule,
            *rows,
            "",
            "## Planted interests and recommendations",
            "",
            "What the same builds found of the personas' planted interests, and how their",
            "recommendations did. CDNOW has no order items, so no categories: n/a.",
            "",
            "- *planted favourites found*: personas whose planted favourite category (their",
            f"  most preferred) is among the top {FAVOURITE_TOP} categories by lift",
            "  (`segment_category_affinity.affinity_rank`) of their segment, the segment that",
            "  holds most of the persona's customers; out of the personas with planted",
            "  interests (those who never order have none). Two personas can share a segment.",
            "- *recommender hit rate*, *popularity hit rate*, *segment hit rate*:",
            "  `recommendation_runs.hit_rate`, `popularity_hit_rate` and `segment_hit_rate`, the",
            "  build's backtest at `shop_recommendation_count` (3 by default): recommend as of",
            "  `shop_recommendation_backtest_days` before the as-of time, and the share of the",
            "  *evaluated customers* (`evaluated_customers`: had bought before the cut-off and",
            "  bought a new category after it) with a hit among the recommendations of the",
            "  score, the shop's best sellers and the segment's best sellers. The shops have",
            "  6-8 categories, and only categories a customer has not bought are offered: a",
            "  customer with three or fewer left gets them all from each recommender, a sure",
            "  hit, so the rates sit near 1: read the differences between them.",
            "",
            interest_head,
            interest_rule,
            *interest_rows,
            "",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    """Command line: evaluate the families and write the markdown table.

    Parameters
    ----------
    argv : list of str, optional
        Arguments after the program name; default ``sys.argv[1:]``.

    Returns
    -------
    int
        0 once the page is written (a family whose build failed is reported in it), 2 when
        cdnow is asked for and its wheel is missing.
    """
    parser = argparse.ArgumentParser(
        prog="shopseg eval",
        description="Build this dbt project on each data family and score the segments.",
    )
    parser.add_argument(
        "--families",
        default=",".join(ALL_FAMILIES),
        help=f"comma-separated, of {', '.join(ALL_FAMILIES)} (default: all)",
    )
    parser.add_argument("--customers", type=int, default=5000, help="per synthetic family")
    parser.add_argument(
        "--cdnow-wheel",
        default=None,
        help=f"the lifetimes-0.11.3 wheel, or a folder holding it (default: ${cdnow.ENV})",
    )
    parser.add_argument("--project-dir", type=Path, default=Path("."), help="the dbt project")
    parser.add_argument("--out", type=Path, default=Path("docs/eval.md"), help="markdown file")
    parser.add_argument("--work", type=Path, default=None, help="work folder (default: temp)")
    parser.add_argument(
        "--bootstrap",
        type=int,
        default=None,
        help="shop_bootstrap_resamples of each build (default: the project's)",
    )
    parser.add_argument("--timeout", type=float, default=900, help="seconds per dbt build")
    parser.add_argument(
        "--vars",
        type=_vars_argument,
        default=None,
        help="JSON object of dbt vars given to every build (--bootstrap wins for its var)",
    )
    args = parser.parse_args(argv)
    families = [f.strip() for f in args.families.split(",") if f.strip()]
    unknown = [f for f in families if f not in ALL_FAMILIES]
    if unknown:
        parser.error(f"unknown families {', '.join(unknown)} (one of {', '.join(ALL_FAMILIES)})")
    project = args.project_dir.resolve()
    if not (project / "dbt_project.yml").exists():
        parser.error(f"{project} has no dbt_project.yml (use --project-dir)")
    if "cdnow" in families:
        try:
            cdnow.find_wheel(args.cdnow_wheel)  # refuse before any build, not after
        except FileNotFoundError as exc:
            print(str(exc), file=sys.stderr)
            return 2
    logging.getLogger("shopseg").setLevel(logging.WARNING)
    results = []
    with tempfile.TemporaryDirectory(prefix="shopseg-eval-") as tmp:
        root = args.work or Path(tmp)
        for name in families:
            started = time.perf_counter()
            work = root / name
            shutil.rmtree(work, ignore_errors=True)
            result = evaluate_family(
                name,
                args.customers,
                project,
                work,
                args.cdnow_wheel,
                args.bootstrap,
                args.timeout,
                args.vars,
            )
            results.append(result)
            print(
                f"eval {name}: k={result.k} ari={result.ari} silhouette={result.silhouette} "
                f"stability={result.stability} hit_rate={result.hit_rate} "
                f"popularity_hit_rate={result.popularity_hit_rate} "
                f"favourites={result.favourites_found}/{result.favourites_planted} "
                f"build={result.build} "
                f"({result.build_seconds:.1f} s build, "
                f"{time.perf_counter() - started:.1f} s in all)",
                flush=True,
            )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    stated = dict(args.vars or {})
    if stated and args.bootstrap is not None:
        stated["shop_bootstrap_resamples"] = args.bootstrap  # what the builds were given
    args.out.write_text(markdown(results, args.customers, args.bootstrap, stated or None))
    print(f"wrote {args.out}")
    return 0


def _vars_argument(text: str) -> dict[str, object]:
    """The --vars option: a JSON object of var names to values."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise argparse.ArgumentTypeError(f"not JSON: {exc}") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError("expected a JSON object of var names to values")
    return value
