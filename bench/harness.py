"""Benchmark `dbt build` (and a naive pandas baseline) on shops of growing size.

The shops are the demo generator's and, as a second family written from another
description, those of `shopseg.evaluate.families`. Each scale also times the floor
(`bench.floor`: one plain DuckDB query of the core per-customer aggregates). Run from the
repository root as ``python -m bench`` (``make bench``).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

DEFAULT_SCALES = "10000,100000,200000,1000000"
# the second family: no events table, so its 1M shop fits the baseline's memory here (the
# event-bearing families draw 150-165 events per customer: 150M+ events at 1M)
DEFAULT_FAMILIES = "demo,fashion_no_events"
DEMO = "demo"
INPUT_TABLES = ("customers", "orders", "order_items", "products", "events")
TOP_NODES = 12
_PAGE = os.sysconf("SC_PAGE_SIZE")
_GIB = 1024**3
_MIB = 1024**2
_CHECKOUT = Path(__file__).resolve().parents[1]  # the folder that holds the bench package


@dataclass
class Measurement:
    """Wall time, peak memory and exit of one measured subprocess."""

    status: str  # ok, failed, memory_limit, timeout, killed
    returncode: int | None
    wall_seconds: float
    peak_tree_rss: int  # bytes: max over samples of the RSS summed over the process tree
    max_process_rss: int  # bytes: kernel high-water mark of the largest single process
    cpu_seconds: float  # user + system of the tree
    samples: int
    load_before: float  # 1-minute load average when the run started
    load_after: float
    started_at: str = ""
    note: str = ""
    memory_limit: int | None = None  # bytes the run was allowed before being killed
    start_epoch: float = 0.0  # time.time() when the process was started
    peak_at: float | None = None  # seconds after the start when the peak was sampled


@dataclass
class NodeTime:
    """Execution time of one dbt node from run_results.json."""

    unique_id: str
    resource_type: str
    layer: str
    status: str
    seconds: float
    started: float | None = None  # epoch seconds (compile start)
    completed: float | None = None  # epoch seconds (execute end)
    peak_rss: int | None = None  # bytes: the tree's peak RSS sampled while this node ran


@dataclass
class Scale:
    """Everything measured for one number of customers."""

    customers: int
    events_per_customer: float
    rows: dict[str, int] = field(default_factory=dict)
    gen_seconds: float | None = None
    gen_cached: bool = False
    dbt: dict[str, Any] | None = None  # Measurement fields + nodes, elapsed, status counts
    baseline: dict[str, Any] | None = None  # Measurement fields + stages, k, accuracy
    family: str = DEMO  # the generator: demo, or a name of shopseg.evaluate.families.FAMILIES
    floor: dict[str, Any] | None = None  # Measurement fields + the query's own seconds


# --------------------------------------------------------------------------------------------
# Measuring a process tree
# --------------------------------------------------------------------------------------------


def parse_scales(text: str) -> list[int]:
    """Parse '10000,100k,1M' into customer counts."""
    out = []
    for part in text.split(","):
        token = part.strip().lower().replace("_", "")
        if not token:
            continue
        factor = {"k": 1_000, "m": 1_000_000}.get(token[-1], 1)
        number = token[:-1] if factor > 1 else token
        value = int(float(number) * factor)
        if value < 1:
            raise ValueError(f"scale must be a positive number of customers, got {part!r}")
        out.append(value)
    if not out:
        raise ValueError("no scale given")
    return out


def _proc_table() -> dict[int, tuple[int, int]]:
    """Map pid -> (parent pid, RSS bytes) for every process, from /proc/<pid>/stat."""
    table = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as f:
                raw = f.read()
        except OSError:
            continue
        fields = raw[raw.rfind(b")") + 2 :].split()  # after "pid (comm) "
        # fields[0] is state, [1] ppid, [21] rss in pages (same value as VmRSS in status)
        table[int(entry.name)] = (int(fields[1]), int(fields[21]) * _PAGE)
    return table


def tree_rss(root: int) -> int:
    """Resident memory summed over a process and all its descendants, in bytes."""
    try:
        import psutil
    except ImportError:
        psutil = None
    if psutil is not None:
        try:
            parent = psutil.Process(root)
            procs = [parent, *parent.children(recursive=True)]
        except psutil.Error:
            return 0
        total = 0
        for proc in procs:
            with contextlib.suppress(psutil.Error):
                total += proc.memory_info().rss
        return total
    table = _proc_table()
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        if pid in table:
            total += table[pid][1]
        stack.extend(children.get(pid, ()))
    return total


def _load() -> float:
    """The 1-minute load average."""
    return os.getloadavg()[0]


def measure(
    cmd: Sequence[str],
    cwd: Path,
    env: Mapping[str, str],
    log_path: Path,
    interval: float = 0.1,
    memory_limit: int | None = None,
    timeout: float | None = None,
    trace: list[tuple[float, int]] | None = None,
) -> Measurement:
    """Run a command, sampling its tree's RSS into trace (epoch, bytes); stdout to log + .out."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    out_path = log_path.with_name(log_path.name + ".out")
    load_before = _load()
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    status, note = "", ""
    peak = samples = 0
    peak_at = None
    trace = trace if trace is not None else []
    with open(out_path, "wb") as out, open(log_path, "wb") as err:
        start_epoch = time.time()
        start = time.perf_counter()
        proc = subprocess.Popen(
            list(cmd), cwd=cwd, env=dict(env), stdout=out, stderr=err, start_new_session=True
        )
        while True:
            pid, wait_status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            rss = tree_rss(proc.pid)
            now = time.perf_counter() - start
            trace.append((start_epoch + now, rss))
            samples += 1
            if rss > peak:
                peak, peak_at = rss, now
            over_memory = memory_limit is not None and rss > memory_limit
            over_time = timeout is not None and now > timeout
            if over_memory or over_time:
                status = "memory_limit" if over_memory else "timeout"
                note = (
                    f"killed at {rss / _GIB:.2f} GiB (limit {memory_limit / _GIB:.2f} GiB)"
                    if over_memory
                    else f"killed after {timeout:.0f} s"
                )
                os.killpg(proc.pid, signal.SIGKILL)
                pid, wait_status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(interval)
        wall = time.perf_counter() - start
    returncode = os.waitstatus_to_exitcode(wait_status)
    proc.returncode = returncode  # reaped by wait4; keeps Popen from waiting again
    if not status:
        if returncode == 0:
            status = "ok"
        elif returncode == -signal.SIGKILL:
            status, note = "killed", "SIGKILL from outside (the kernel OOM killer?)"
        else:
            status = "failed"
    return Measurement(
        status=status,
        returncode=returncode,
        wall_seconds=wall,
        peak_tree_rss=peak,
        max_process_rss=usage.ru_maxrss * 1024,
        cpu_seconds=usage.ru_utime + usage.ru_stime,
        samples=samples,
        load_before=load_before,
        load_after=_load(),
        started_at=started_at,
        note=note,
        memory_limit=memory_limit,
        start_epoch=start_epoch,
        peak_at=peak_at,
    )


def peak_between(trace: Sequence[tuple[float, int]], start: float, end: float) -> int | None:
    """The largest RSS sampled in [start, end] (epoch seconds), or None without a sample."""
    inside = [rss for at, rss in trace if start <= at <= end]
    return max(inside) if inside else None


def write_trace(trace: Sequence[tuple[float, int]], start_epoch: float, path: Path) -> None:
    """Save the RSS samples as CSV (seconds since start, MiB) for plotting."""
    lines = ["seconds,rss_mib"] + [f"{at - start_epoch:.2f},{rss / _MIB:.1f}" for at, rss in trace]
    path.write_text("\n".join(lines) + "\n")


# --------------------------------------------------------------------------------------------
# dbt artifacts
# --------------------------------------------------------------------------------------------


def _layer(unique_id: str, manifest: Mapping[str, Any]) -> str:
    """The model folder (staging, intermediate, ...) of a node, or its resource type."""
    kind = unique_id.split(".", 1)[0]
    node = manifest.get("nodes", {}).get(unique_id, {})
    fqn = node.get("fqn", [])
    if kind == "model" and len(fqn) > 2:
        return str(fqn[1])
    return kind


def _epoch(text: str | None) -> float | None:
    """An ISO timestamp of run_results.json as epoch seconds."""
    return datetime.fromisoformat(text).timestamp() if text else None


def node_times(
    target: Path, trace: Sequence[tuple[float, int]] = ()
) -> tuple[list[NodeTime], float | None]:
    """Per-node times (slowest first) with the peak RSS while each ran, and dbt's elapsed."""
    results_path = target / "run_results.json"
    if not results_path.exists():
        return [], None
    results = json.loads(results_path.read_text())
    manifest_path = target / "manifest.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    nodes = []
    for r in results.get("results", []):
        starts = [_epoch(t.get("started_at")) for t in r.get("timing") or []]
        ends = [_epoch(t.get("completed_at")) for t in r.get("timing") or []]
        node = NodeTime(
            unique_id=r["unique_id"],
            resource_type=r["unique_id"].split(".", 1)[0],
            layer=_layer(r["unique_id"], manifest),
            status=str(r.get("status")),
            seconds=float(r.get("execution_time") or 0.0),
            started=min((t for t in starts if t), default=None),
            completed=max((t for t in ends if t), default=None),
        )
        if trace and node.started and node.completed:
            node.peak_rss = peak_between(trace, node.started, node.completed)
        nodes.append(node)
    nodes.sort(key=lambda n: n.seconds, reverse=True)
    return nodes, results.get("elapsed_time")


def layer_totals(nodes: Sequence[Mapping[str, Any]]) -> dict[str, float]:
    """Summed node seconds per layer (models by folder, then tests, seeds), largest first."""
    totals: dict[str, float] = {}
    for node in nodes:
        totals[node["layer"]] = totals.get(node["layer"], 0.0) + node["seconds"]
    return dict(sorted(totals.items(), key=lambda item: item[1], reverse=True))


# --------------------------------------------------------------------------------------------
# Running one scale
# --------------------------------------------------------------------------------------------


def generator_digest(family: str = DEMO) -> str:
    """Return a short digest of a generator's sources.

    Parameters
    ----------
    family : str, default "demo"
        demo (every ``.py`` file of ``shopseg.demo``) or a family of
        ``shopseg.evaluate.families`` (that module).

    Returns
    -------
    str
        16 hex digits of the SHA-256 over the files' names and bytes: any change to the
        generator changes it.
    """
    from shopseg import demo
    from shopseg.evaluate import families

    if family == DEMO:
        package = Path(demo.__file__).parent
        paths = sorted(package.rglob("*.py"))
    else:
        package = Path(families.__file__).parent
        paths = [Path(families.__file__)]
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.relative_to(package).as_posix().encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def generate_data(
    data_dir: Path,
    customers: int,
    events_per_customer: float,
    seed: int,
    regenerate: bool,
    family: str = DEMO,
) -> tuple[dict[str, int], float, bool]:
    """Generate a shop (or reuse an identical earlier one); return rows, seconds, cached.

    The demo generator takes the seed and the events per customer; a family of
    `shopseg.evaluate.families` draws with its own seed and its own events (none for a
    family without an events table), as `make eval` does.
    """
    from shopseg import demo
    from shopseg.evaluate import families

    meta_path = data_dir / ".bench.json"
    wanted: dict[str, Any] = {
        "customers": customers,
        "family": family,
        "generator": generator_digest(family),  # a changed generator regenerates
    }
    if family == DEMO:
        wanted |= {"events_per_customer": events_per_customer, "seed": seed}
    if not regenerate and meta_path.exists():
        meta = json.loads(meta_path.read_text())
        tables = [t for t in INPUT_TABLES if t in meta.get("rows", {})]  # a family may lack one
        complete = all((data_dir / f"{t}.parquet").exists() for t in tables)
        if complete and meta.get("rows") and all(meta.get(k) == v for k, v in wanted.items()):
            return meta["rows"], meta["seconds"], True
    shutil.rmtree(data_dir, ignore_errors=True)
    started = time.perf_counter()
    if family == DEMO:
        rows = demo.generate_to(
            data_dir, customers=customers, events_per_customer=events_per_customer, seed=seed
        )
    else:
        tables = families.generate_family(families.FAMILIES[family], customers)
        families.write_tables(tables, data_dir)
        rows = {name: len(frame) for name, frame in tables.items() if name in INPUT_TABLES}
        del tables
    seconds = time.perf_counter() - started
    try:
        import pyarrow as pa

        pa.default_memory_pool().release_unused()
    except ImportError:
        pass
    meta_path.write_text(json.dumps(wanted | {"rows": rows, "seconds": seconds}))
    return rows, seconds, False


def _dbt_executable() -> str:
    """The dbt next to this Python (the venv's), else the one on PATH."""
    local = Path(sys.executable).with_name("dbt")
    return str(local) if local.exists() else (shutil.which("dbt") or "dbt")


@dataclass(frozen=True)
class Limits:
    """How a measured run is bounded and sampled."""

    memory_limit: int | None = None  # bytes of the tree's RSS before it is killed
    timeout: float | None = None  # seconds
    interval: float = 0.1  # seconds between memory samples


def run_dbt(project: Path, data_dir: Path, run_dir: Path, limits: Limits) -> dict[str, Any]:
    """One measured `dbt build` into a fresh DuckDB file, with its per-node times."""
    memory_limit, timeout, interval = limits.memory_limit, limits.timeout, limits.interval
    work = run_dir / "dbt"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    target = work / "target"
    env = os.environ | {
        "DBT_PROFILES_DIR": str(project / "profiles"),
        "SHOPSEG_INPUT_PATH": str(data_dir.resolve()),
        "SHOPSEG_DUCKDB_PATH": str((work / "shopseg.duckdb").resolve()),
        # the Makefile exports the developer's BI file here: never publish a bench build to it
        "SHOPSEG_PUBLISH_PATH": str((work / "shopseg_published.duckdb").resolve()),
        "DBT_TARGET_PATH": str(target.resolve()),
        "DBT_LOG_PATH": str((work / "logs").resolve()),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "SHOPSEG_THREADS": str(os.cpu_count() or 2),  # as make build: one thread per core
    }
    # a scheduled build reuses the saved parse of the one before (target/partial_parse.msgpack):
    # the full parse a project change costs is timed on its own, then the build reuses it
    parse = measure(
        [_dbt_executable(), "parse"],
        project,
        env,
        work / "parse.log",
        interval,
        memory_limit,
        timeout,
    )
    trace: list[tuple[float, int]] = []
    m = measure(
        [_dbt_executable(), "build", "--selector", "production"],  # what make build runs
        project,
        env,
        work / "dbt.log",
        interval,
        memory_limit,
        timeout,
        trace,
    )
    write_trace(trace, m.start_epoch, work / "rss.csv")
    nodes, elapsed = node_times(target, trace)
    peak_epoch = m.start_epoch + (m.peak_at or 0.0)
    at_peak = [
        n.unique_id
        for n in nodes
        if n.started and n.completed and n.started - 0.2 <= peak_epoch <= n.completed + 0.2
    ]
    counts: dict[str, int] = {}
    for node in nodes:
        counts[node.status] = counts.get(node.status, 0) + 1
    return asdict(m) | {
        "dbt_elapsed": elapsed,
        "node_status": counts,
        "nodes_at_peak": at_peak,
        "nodes": [asdict(n) for n in nodes],
        "steps": timed_steps(work / "logs" / "dbt.log"),
        "log": str(work / "dbt.log.out"),
        "parse": asdict(parse),
    }


_STEP = re.compile(r"\]: (shopseg: .*\((\d+(?:\.\d+)?)s\))\s*$")


def timed_steps(log_file: Path) -> list[dict[str, Any]]:
    """The timed steps the Python models logged (`shopseg: ... (1.2s)` lines of dbt.log).

    Parameters
    ----------
    log_file : pathlib.Path
        dbt's log file of the build.

    Returns
    -------
    list of dict
        In log order: the line (without dbt's prefix) and its seconds; none without the file.
    """
    if not log_file.exists():
        return []
    steps = []
    for line in log_file.read_text(errors="replace").splitlines():
        match = _STEP.search(line)
        if match:
            steps.append({"line": match.group(1), "seconds": float(match.group(2))})
    return steps


def _run_module(
    module: str, args: Sequence[str], project: Path, work: Path, limits: Limits
) -> tuple[Measurement, list[tuple[float, int]], dict[str, Any]]:
    """Run `python -m <module> <args>` measured, in the project folder; parse its JSON line.

    Returns the measurement, the RSS trace and the last stdout line as JSON ({} if none).
    """
    cmd = [sys.executable, "-m", module, *args]
    # the run's folder is the dbt project, which need not be this checkout
    path = os.pathsep.join(p for p in (str(_CHECKOUT), os.environ.get("PYTHONPATH")) if p)
    env = os.environ | {"PYTHONPATH": path}
    trace: list[tuple[float, int]] = []
    log = work / f"{module.rpartition('.')[2]}.log"
    m = measure(cmd, project, env, log, limits.interval, limits.memory_limit, limits.timeout, trace)
    report: dict[str, Any] = {}
    lines = log.with_name(log.name + ".out").read_text().strip().splitlines()
    if lines:
        with contextlib.suppress(json.JSONDecodeError):
            report = json.loads(lines[-1])
    return m, trace, report


def run_floor(project: Path, data_dir: Path, work: Path, timeout: float | None) -> dict[str, Any]:
    """One measured run of the floor query (`python -m bench.floor`) in a fresh `work` folder."""
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    out = str((work / "customers.parquet").resolve())
    args = ["--input", str(data_dir.resolve()), "--out", out]
    m, _, report = _run_module("bench.floor", args, project, work, Limits(timeout=timeout))
    return asdict(m) | {
        "query_seconds": report.get("seconds"),
        "customers": report.get("customers"),
    }


def run_baseline(project: Path, data_dir: Path, run_dir: Path, limits: Limits) -> dict[str, Any]:
    """One measured run of the pandas + scikit-learn baseline, with its stage times."""
    work = run_dir / "baseline"
    shutil.rmtree(work, ignore_errors=True)
    args = ["--input", str(data_dir.resolve())]
    m, trace, report = _run_module("bench.baseline", args, project, work, limits)
    write_trace(trace, m.start_epoch, work / "rss.csv")
    if report.get("status") == "memory_error":
        m.status, m.note = "memory_error", f"MemoryError in stage {report.get('stage')}"
    report.pop("status", None)
    starts = report.pop("stage_started_at", {})
    seconds = report.get("stages", {})
    report["stage_peak_rss"] = {
        name: peak_between(trace, start, start + seconds[name])
        for name, start in starts.items()
        if name in seconds
    }
    return asdict(m) | report | {"log": str(work / "baseline.log")}


# --------------------------------------------------------------------------------------------
# Reporting
# --------------------------------------------------------------------------------------------


def machine_info() -> dict[str, Any]:
    """Cores, RAM, CPU model and the versions of the stack being measured."""
    meminfo = Path("/proc/meminfo").read_text().split("\n")
    total_kb = next((int(line.split()[1]) for line in meminfo if "MemTotal" in line), 0)
    cpu = ""
    if Path("/proc/cpuinfo").exists():
        cpu = next(
            (
                line.split(":", 1)[1].strip()
                for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")
            ),
            "",
        )
    versions = {}
    for package in (
        "dbt-core",
        "dbt-duckdb",
        "duckdb",
        "scikit-learn",
        "pandas",
        "numpy",
        "pyarrow",
    ):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "not installed"
    return {
        "cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)),
        "cpu": cpu,
        "ram_gib": round(total_kb / 1024**2, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "versions": versions,
    }


def _gib(value: float | None) -> str:
    """Bytes as GiB (MiB below 1 GiB) for tables."""
    if not value:
        return "-"
    return f"{value / _GIB:.2f} GiB" if value >= _GIB else f"{value / _MIB:.0f} MiB"


def _sec(value: float | None) -> str:
    """Seconds for tables."""
    return "-" if value is None else f"{value:.1f}"


def _ratio(a: float | None, b: float | None) -> str:
    """a / b as 'x.xx×', or '-'."""
    return f"{a / b:.2f}×" if a and b else "-"


def _ok(run: Mapping[str, Any] | None) -> bool:
    """True when a measured run finished cleanly."""
    return bool(run) and run["status"] == "ok"


def _wall(run: Mapping[str, Any] | None) -> str:
    """Wall seconds, with the status when the run did not finish cleanly."""
    if not run:
        return "skipped"
    return _sec(run["wall_seconds"]) + ("" if _ok(run) else f" ({run['status']})")


def _short(unique_id: str) -> str:
    """A node id without the project name (model.shopseg.x -> x; tests keep their type)."""
    kind, _, rest = unique_id.partition(".")
    name = rest.partition(".")[2] or rest
    if kind == "test":
        name = name.rsplit(".", 1)[0]  # drop the hash suffix of generic tests
    return name if kind == "model" else f"{kind}: {name}"


def summary_rows(scales: Sequence[Scale]) -> list[list[str]]:
    """The summary table (header first) shared by the terminal and the markdown report."""
    header = [
        "family",
        "customers",
        "events",
        "data gen s",
        "dbt wall s",
        "dbt peak RSS",
        "dbt CPU s",
        "slowest node (s)",
        "baseline wall s",
        "baseline peak RSS",
        "time dbt/base",
        "memory dbt/base",
        "floor s",
        "time dbt/floor",
    ]
    rows = [header]
    for s in scales:
        dbt, base = s.dbt, s.baseline
        slowest = "-"
        if dbt and dbt.get("nodes"):
            top = dbt["nodes"][0]
            slowest = f"{_short(top['unique_id'])} ({top['seconds']:.1f})"
        gen = _sec(s.gen_seconds) + (" (cached)" if s.gen_cached else "")
        floor = s.floor
        rows.append(
            [
                s.family,
                f"{s.customers:,}",
                f"{s.rows.get('events', 0):,}",
                gen,
                _wall(dbt),
                _gib(dbt["peak_tree_rss"]) if dbt else "-",
                _sec(dbt["cpu_seconds"]) if dbt else "-",
                slowest,
                _wall(base),
                _gib(base["peak_tree_rss"]) if base else "-",
                _ratio(dbt["wall_seconds"], base["wall_seconds"])
                if _ok(dbt) and _ok(base)
                else "-",
                _ratio(dbt["peak_tree_rss"], base["peak_tree_rss"])
                if _ok(dbt) and _ok(base)
                else "-",
                _wall(floor),
                _ratio(dbt["wall_seconds"], floor["wall_seconds"])
                if _ok(dbt) and _ok(floor)
                else "-",
            ]
        )
    return rows


def text_table(rows: Sequence[Sequence[str]]) -> str:
    """Rows as an aligned plain-text table."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.rjust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def markdown_table(rows: Sequence[Sequence[str]]) -> str:
    """Rows as a GitHub markdown table (header first)."""
    lines = ["| " + " | ".join(rows[0]) + " |", "|" + "---|" * len(rows[0])]
    lines += ["| " + " | ".join(row) + " |" for row in rows[1:]]
    return "\n".join(lines)


def growth(scales: Sequence[Scale]) -> list[list[str]]:
    """Growth ratios between consecutive scales (header first)."""
    rows = [
        ["from → to", "customers", "dbt wall", "dbt peak RSS", "baseline wall", "baseline peak"]
    ]
    ordered = sorted(scales, key=lambda s: s.customers)
    for a, b in zip(ordered, ordered[1:], strict=False):
        rows.append(
            [
                f"{a.customers:,} → {b.customers:,}",
                _ratio(b.customers, a.customers),
                _ratio(*_pair(b.dbt, a.dbt, "wall_seconds")),
                _ratio(*_pair(b.dbt, a.dbt, "peak_tree_rss")),
                _ratio(*_pair(b.baseline, a.baseline, "wall_seconds")),
                _ratio(*_pair(b.baseline, a.baseline, "peak_tree_rss")),
            ]
        )
    return rows


def _pair(
    later: Mapping[str, Any] | None, earlier: Mapping[str, Any] | None, key: str
) -> tuple[float | None, float | None]:
    """A metric of two runs when both finished cleanly."""
    if _ok(later) and _ok(earlier):
        return later[key], earlier[key]
    return None, None


def _run_line(label: str, run: Mapping[str, Any]) -> str:
    """One bullet describing a measured run."""
    note = f"; {run['note']}" if run.get("note") else ""
    return (
        f"- {label}: {run['status']} (exit {run['returncode']}), wall {_sec(run['wall_seconds'])}"
        f" s, CPU {_sec(run['cpu_seconds'])} s, peak RSS of the process tree"
        f" {_gib(run['peak_tree_rss'])} ({run['samples']} samples), kernel high-water mark of the"
        f" largest process {_gib(run['max_process_rss'])}, load average"
        f" {run['load_before']:.2f} → {run['load_after']:.2f}, memory limit"
        f" {_gib(run.get('memory_limit')) if run.get('memory_limit') else 'none'},"
        f" started {run['started_at']}{note}"
    )


def scale_section(s: Scale) -> str:
    """The markdown section of one scale: runs, per-node times, layers, baseline stages."""
    gen = _sec(s.gen_seconds) + (" (cached from an earlier run)" if s.gen_cached else "")
    rows = ", ".join(f"{k} {v:,}" for k, v in s.rows.items())
    out = [
        f"## {s.family}: {s.customers:,} customers"
        + (f" × {s.events_per_customer:g} events" if s.family == DEMO else ""),
        "",
        f"- data: {rows}; generation {gen} s (not in any total)",
    ]
    dbt = s.dbt
    if dbt:
        out.append(_run_line("dbt build", dbt))
        if dbt.get("parse"):
            out.append(
                _run_line(
                    "dbt parse before it (full: once per change of the project; the"
                    " build then reuses its saved parse, as a scheduled build does)",
                    dbt["parse"],
                )
            )
        if dbt.get("dbt_elapsed") is not None:
            startup = dbt["wall_seconds"] - dbt["dbt_elapsed"]
            out.append(
                f"- dbt's own elapsed time {_sec(dbt['dbt_elapsed'])} s; the other"
                f" {_sec(startup)} s of the wall time are start-up, parsing and artifacts"
            )
        if dbt.get("node_status"):
            out.append(f"- node status: {dbt['node_status']}")
        flagged = [n for n in dbt.get("nodes") or [] if n["status"] not in ("success", "pass")]
        if flagged:
            names = ", ".join(f"{_short(n['unique_id'])} ({n['status']})" for n in flagged)
            out.append(f"- not passing: {names}")
        nodes = dbt.get("nodes") or []
        if nodes:
            total = sum(n["seconds"] for n in nodes)
            top = nodes[0]
            layers = layer_totals(nodes)
            first_layer = next(iter(layers))
            if dbt.get("peak_at") is not None:
                running = ", ".join(_short(u) for u in dbt.get("nodes_at_peak") or []) or "no node"
                out.append(
                    f"- peak RSS reached {dbt['peak_at']:.0f} s into the build, while running:"
                    f" {running}"
                )
            out += [
                f"- slowest node: **{_short(top['unique_id'])}** ({top['seconds']:.1f} s,"
                f" {top['seconds'] / total:.0%} of summed node time);"
                f" slowest layer: **{first_layer}** ({layers[first_layer]:.1f} s)",
                "",
                f"Per-node execution time, top {min(TOP_NODES, len(nodes))} of {len(nodes)}"
                f" (summed {total:.1f} s; 2 threads run nodes in parallel, so the sum can exceed"
                " the wall time):",
                "",
            ]
            table = [["node", "layer", "status", "seconds", "share", "peak RSS while running"]]
            for n in nodes[:TOP_NODES]:
                table.append(
                    [
                        _short(n["unique_id"]),
                        n["layer"],
                        n["status"],
                        f"{n['seconds']:.2f}",
                        f"{n['seconds'] / total:.0%}" if total else "-",
                        _gib(n.get("peak_rss")),
                    ]
                )
            out += [markdown_table(table), ""]
            layer_rows = [["layer", "seconds"]] + [[k, f"{v:.1f}"] for k, v in layers.items()]
            out += ["Summed node time per layer:", "", markdown_table(layer_rows), ""]
        steps = dbt.get("steps") or []
        if steps:
            out += [
                "Timed steps inside the Python models (their `shopseg:` lines in dbt's log, in"
                " order; the rest of a node's time is reading, writing and untimed work):",
                "",
                *[f"- {step['line']}" for step in steps],
                "",
            ]
    else:
        out.append("- dbt build: skipped")
    base = s.baseline
    if base:
        out.append(_run_line("baseline (pandas + scikit-learn)", base))
        stages = base.get("stages") or {}
        if stages:
            peaks = base.get("stage_peak_rss") or {}
            parts = ", ".join(
                f"{k} {v:.1f} s" + (f" (peak {_gib(peaks[k])})" if peaks.get(k) else "")
                for k, v in stages.items()
            )
            out.append(f"- baseline stages: {parts}")
        if "k" in base:
            out.append(
                f"- baseline result: k = {base['k']}, silhouette {base['silhouette']:.3f},"
                f" forest accuracy {base['forest_accuracy']:.3f} on the 20% hold-out"
            )
        if _ok(dbt) and _ok(base):
            out.append(
                f"- shopseg / baseline: time {_ratio(dbt['wall_seconds'], base['wall_seconds'])},"
                f" peak memory {_ratio(dbt['peak_tree_rss'], base['peak_tree_rss'])}"
            )
    else:
        out.append("- baseline: skipped")
    floor = s.floor
    if floor:
        out.append(_run_line("floor (one DuckDB query, `bench.floor`)", floor))
        if floor.get("query_seconds") is not None:
            out.append(
                f"- floor: the query itself {floor['query_seconds']:.1f} s for"
                f" {floor.get('customers') or 0:,} customers"
            )
        if _ok(dbt) and _ok(floor):
            ratio = _ratio(dbt["wall_seconds"], floor["wall_seconds"])
            out.append(f"- shopseg / floor: time {ratio}")
    return "\n".join(out) + "\n"


def _verdict(value: float, limit: float, at_least: bool, unit: str = "×") -> str:
    """'met', or how far a figure is from its target."""
    if (value >= limit) if at_least else (value <= limit):
        return "met"
    factor = limit / value if at_least else value / limit
    shown = f"{factor:.2f}" if factor >= 1.005 else f"{factor:.3f}"
    return f"not met: {shown}× away from {limit:g}{unit}"


def targets(scales: Sequence[Scale]) -> list[str]:
    """Issue #16's targets against this run's figures, per family (markdown bullets)."""
    lines = []
    for family in dict.fromkeys(s.family for s in scales):
        at = {s.customers: s for s in scales if s.family == family}
        for customers, want in ((100_000, 3.0), (200_000, 3.0), (1_000_000, 5.0)):
            s = at.get(customers)
            if not s or not (_ok(s.dbt) and _ok(s.baseline)):
                lines.append(f"- {family}, {customers:,}: not measured in this report")
                continue
            speed = s.baseline["wall_seconds"] / s.dbt["wall_seconds"]
            memory = s.dbt["peak_tree_rss"] / s.baseline["peak_tree_rss"]
            lines.append(
                f"- {family}, {customers:,}: {speed:.2f}× faster than the baseline (target ≥"
                f" {want:g}×: {_verdict(speed, want, True)}); peak memory {memory:.2f}× the"
                f" baseline's (target ≤ 0.5×: {_verdict(memory, 0.5, False)})"
            )
        million = at.get(1_000_000)
        if million and _ok(million.dbt) and _ok(million.floor):
            ratio = million.dbt["wall_seconds"] / million.floor["wall_seconds"]
            peak = million.dbt["peak_tree_rss"] / _GIB
            lines.append(
                f"- {family}, 1,000,000: the build takes {ratio:.1f}× the floor (target ≤ 8×:"
                f" {_verdict(ratio, 8.0, False)}); peak RSS {peak:.2f} GiB (target ≤ 4 GiB:"
                f" {_verdict(peak, 4.0, False, ' GiB')})"
            )
        mid = at.get(200_000)
        if mid and _ok(mid.dbt) and mid.dbt.get("dbt_elapsed") is not None:
            fixed = 1 - mid.dbt["dbt_elapsed"] / mid.dbt["wall_seconds"]
            lines.append(
                f"- {family}, 200,000: start-up, parse and artifacts are {fixed:.0%} of the"
                f" build (target ≤ 10%: {_verdict(fixed * 100, 10.0, False, '%')})"
            )
        small, large = at.get(100_000), at.get(1_000_000)
        if small and large and _ok(small.dbt) and _ok(large.dbt):
            grow = large.dbt["wall_seconds"] / small.dbt["wall_seconds"]
            lines.append(
                f"- {family}, 100,000 → 1,000,000: the build grows {grow:.2f}× (target ≤ 4×:"
                f" {_verdict(grow, 4.0, False)})"
            )
    lines.append(
        "- the demo's no-change rebuild (`make build` twice) and the install time are not"
        " measured here: see CHANGELOG.md and the issue's closing notes"
    )
    return lines


def markdown_report(machine: Mapping[str, Any], scales: Sequence[Scale]) -> str:
    """The whole bench/results.md."""
    v = machine["versions"]
    stack = ", ".join(f"{k} {val}" for k, val in v.items())
    lines = [
        "# shopseg benchmark",
        "",
        "Written by `make bench` (`python -m bench`). dbt wall time and memory are"
        " for the whole production build `make build` runs (`dbt build --selector"
        " production`: every model and data test, no unit tests; one thread per core) on a"
        " fresh DuckDB file, after a `dbt parse` timed on its own (the build reuses its saved"
        " parse, as each scheduled build reuses the one before); data generation is timed"
        " separately and excluded. Peak RSS"
        " is the maximum, over samples every ~0.1 s, of the resident memory summed over the"
        " process tree. The baseline is `python -m bench.baseline` (pandas features, K-means"
        " sweep k = 3..8 and the final fit on every row, RandomForest on 80%). The floor is"
        " `python -m bench.floor`: one DuckDB query of the core per-customer aggregates"
        " (orders, revenue, recency, sessions by the 30-minute gap rule, product views, cart"
        " adds) written to Parquet. Families: **demo** (`shopseg.demo`) and the"
        " `shopseg.evaluate.families` shops `make eval` uses (**fashion_no_events**: no"
        " events table, lognormal spend).",
        "",
        f"Machine: {machine['cores']} cores ({machine['usable_cores']} usable), {machine['cpu']},"
        f" {machine['ram_gib']} GiB RAM, Python {machine['python']}, {machine['platform']}.",
        f"Stack: {stack}.",
        "",
        "Timings are noisy when other work shares the machine: see each run's load average.",
        "",
        markdown_table(summary_rows(scales)),
        "",
        "Targets of issue #16 (ratios of runs in this report):",
        "",
        *targets(scales),
        "",
    ]
    for family in dict.fromkeys(s.family for s in scales):
        same = [s for s in scales if s.family == family]
        if len(same) > 1:
            lines += [f"Growth between scales ({family}):", "", markdown_table(growth(same)), ""]
    lines += [scale_section(s) for s in scales]
    return "\n".join(lines)


def _scale_key(s: Scale) -> str:
    """Key of a scale in results.json (the demo's as before families existed)."""
    if s.family == DEMO:
        return f"{s.customers}x{s.events_per_customer:g}"
    return f"{s.family}-{s.customers}"


def _folder(family: str, customers: int, events_per_customer: float) -> str:
    """The data and run folder name of one scale."""
    if family == DEMO:
        return f"customers-{customers}-epc-{events_per_customer:g}"
    return f"{family}-customers-{customers}"


def load_results(path: Path) -> dict[str, Scale]:
    """Scales measured earlier (results.json), so partial runs add up to one report."""
    if not path.exists():
        return {}
    data = json.loads(path.read_text())
    return {key: Scale(**value) for key, value in data.get("scales", {}).items()}


# --------------------------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------------------------


def run_bench(
    scales: Sequence[int],
    events_per_customer: float,
    out: Path,
    project: Path,
    skip_dbt: bool = False,
    skip_baseline: bool = False,
    regenerate: bool = False,
    skip_floor: bool = False,
    memory_limit_gb: float | None = None,
    timeout: float | None = None,
    seed: int = 42,
    interval: float = 0.1,
    fresh: bool = False,
    families: Sequence[str] = (DEMO,),
) -> tuple[dict[str, Any], list[Scale]]:
    """Generate, build, baseline and floor each family's scales; merge into out/results.json.

    Returns the machine and every scale known of these families (this run's and earlier
    ones' of the same shape), families in the order given, then by customers.
    """
    out.mkdir(parents=True, exist_ok=True)
    results_path = out / "results.json"
    known = {} if fresh else load_results(results_path)
    machine = machine_info()
    for family, customers in [(f, c) for f in families for c in scales]:
        folder = _folder(family, customers, events_per_customer)
        data_dir, run_dir = out / "data" / folder, out / "runs" / folder
        label = f"{family} {customers:,}"
        _say(f"[{label}] generating data in {data_dir} ...")
        rows, gen_seconds, cached = generate_data(
            data_dir, customers, events_per_customer, seed, regenerate, family
        )
        _say(f"[{label}] data: {rows} in {gen_seconds:.1f} s{' (cached)' if cached else ''}")
        scale = Scale(customers, events_per_customer, rows, gen_seconds, cached, family=family)
        previous = known.get(_scale_key(scale))
        if previous and previous.rows == rows:
            scale.dbt, scale.baseline, scale.floor = previous.dbt, previous.baseline, previous.floor
        if not skip_dbt:
            _say(f"[{label}] dbt build ...")
            limits = Limits(memory_limit_bytes(memory_limit_gb), timeout, interval)
            scale.dbt = run_dbt(project, data_dir, run_dir, limits)
            _say(
                f"[{label}] dbt build: {scale.dbt['status']} in"
                f" {scale.dbt['wall_seconds']:.1f} s, peak {_gib(scale.dbt['peak_tree_rss'])}"
            )
        if not skip_baseline:
            _say(f"[{label}] baseline ...")
            limits = Limits(memory_limit_bytes(memory_limit_gb), timeout, interval)
            scale.baseline = run_baseline(project, data_dir, run_dir, limits)
            _say(
                f"[{label}] baseline: {scale.baseline['status']} in"
                f" {scale.baseline['wall_seconds']:.1f} s,"
                f" peak {_gib(scale.baseline['peak_tree_rss'])}"
            )
        if not skip_floor:
            scale.floor = run_floor(project, data_dir, run_dir / "floor", timeout)
            _say(f"[{label}] floor: {scale.floor['status']} in {scale.floor['wall_seconds']:.1f} s")
        known[_scale_key(scale)] = scale
        payload = {
            "machine": machine,
            "scales": {k: asdict(v) for k, v in known.items()},
        }
        results_path.write_text(json.dumps(payload, indent=1))
    order = {f: i for i, f in enumerate(families)}
    same_shape = [
        s
        for s in known.values()
        if s.family in order and (s.family != DEMO or s.events_per_customer == events_per_customer)
    ]
    return machine, sorted(same_shape, key=lambda s: (order[s.family], s.customers))


def _say(message: str) -> None:
    """Progress on stderr, so stdout carries only the final table."""
    print(message, file=sys.stderr, flush=True)


def memory_limit_bytes(limit_gb: float | None) -> int | None:
    """Bytes a run may use: limit_gb GiB, none for 0, or 80% of the memory available now."""
    if limit_gb is None:
        meminfo = Path("/proc/meminfo").read_text().splitlines()
        kb = next((int(line.split()[1]) for line in meminfo if line.startswith("MemAvailable")), 0)
        return int(kb * 1024 * 0.8) if kb else None
    return int(limit_gb * _GIB) if limit_gb > 0 else None


def main(argv: list[str] | None = None) -> int:
    """Command line entry point of ``python -m bench``.

    Parameters
    ----------
    argv : list of str, optional
        Arguments after the program name; default ``sys.argv[1:]``.

    Returns
    -------
    int
        0, or 1 when a dbt build of a requested scale did not finish ok.
    """
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--customers",
        "--scales",
        dest="scales",
        default=DEFAULT_SCALES,
        help=f"comma-separated customer counts, 100k / 1M allowed (default {DEFAULT_SCALES})",
    )
    parser.add_argument("--events-per-customer", type=float, default=50.0, help="demo only")
    parser.add_argument(
        "--families",
        default=DEFAULT_FAMILIES,
        help=f"comma-separated generators: demo and names of shopseg.evaluate.families"
        f" (default {DEFAULT_FAMILIES})",
    )
    parser.add_argument("--out", type=Path, default=Path("bench/out"), help="working folder")
    parser.add_argument("--results", type=Path, default=Path("bench/results.md"))
    parser.add_argument("--project-dir", type=Path, default=Path("."), help="the dbt project")
    parser.add_argument("--skip-baseline", action="store_true", help="only run dbt build")
    parser.add_argument("--skip-dbt", action="store_true", help="only run the baseline")
    parser.add_argument("--skip-floor", action="store_true", help="do not time the floor query")
    parser.add_argument("--regenerate", action="store_true", help="regenerate cached data")
    parser.add_argument("--fresh", action="store_true", help="forget earlier results.json")
    parser.add_argument(
        "--memory-limit-gb",
        type=float,
        default=None,
        help="kill a run whose process tree exceeds this RSS in GiB (default: 80%% of the"
        " memory available when the run starts; 0: no limit)",
    )
    parser.add_argument("--timeout", type=float, default=0, help="seconds per run (0: none)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--interval", type=float, default=0.1, help="memory sampling seconds")
    args = parser.parse_args(argv)
    try:
        scales = parse_scales(args.scales)
    except ValueError as exc:
        parser.error(str(exc))
    from shopseg.evaluate.families import FAMILIES

    families = [f.strip() for f in args.families.split(",") if f.strip()]
    unknown = [f for f in families if f != DEMO and f not in FAMILIES]
    if unknown or not families:
        parser.error(f"--families: unknown {unknown}; known: {[DEMO, *FAMILIES]}")
    project = args.project_dir.resolve()
    if not (project / "dbt_project.yml").exists():
        parser.error(f"{project} has no dbt_project.yml (use --project-dir)")
    machine, all_scales = run_bench(
        scales,
        args.events_per_customer,
        args.out,
        project,
        skip_dbt=args.skip_dbt,
        skip_baseline=args.skip_baseline,
        regenerate=args.regenerate,
        memory_limit_gb=args.memory_limit_gb,
        timeout=args.timeout or None,
        seed=args.seed,
        interval=args.interval,
        fresh=args.fresh,
        families=families,
        skip_floor=args.skip_floor,
    )
    print(text_table(summary_rows(all_scales)))
    for family in families:
        same = [s for s in all_scales if s.family == family]
        if len(same) > 1:
            print(f"\ngrowth ({family}):")
            print(text_table(growth(same)))
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(markdown_report(machine, all_scales))
    print(f"\nreport: {args.results}  raw: {args.out / 'results.json'}")
    failed = [s for s in all_scales if s.customers in scales and s.dbt and not _ok(s.dbt)]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
