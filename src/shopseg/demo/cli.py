"""``python -m shopseg.demo``: generate demo data into a folder the command owns."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from shopseg.demo.files import FORMATS, table_path
from shopseg.demo.schema import INPUT_TABLES, TRUTH_TABLE
from shopseg.demo.shop import generate_to

# The CLI writes only into a folder it created: this file marks it (and records the settings
# of the data in it). A folder holding a `.customers-N` file, the marker `make demo` wrote
# before this one existed, also counts as the demo's own.
MARKER = ".shopseg-demo"
_LEGACY_MARKER = ".customers-"


def _outputs(out: Path) -> list[Path]:
    """Every file the CLI may have written into `out`, in either format."""
    names = (*INPUT_TABLES, TRUTH_TABLE)
    return [table_path(out, name, fmt) for name in names for fmt in FORMATS]


def _is_marked(out: Path) -> bool:
    return (out / MARKER).is_file() or any(out.glob(f"{_LEGACY_MARKER}*"))


def _refusal(out: Path) -> str | None:
    """Why the CLI may not write into `out` (a line), or None when it may."""
    if out.exists() and not out.is_dir():
        return f"shopseg: demo: {out} is a file, not a folder: pick another --out"
    if not out.exists() or _is_marked(out):
        return None
    entries = sorted(path.name + ("/" if path.is_dir() else "") for path in out.iterdir())
    if not entries:
        return None
    shown = ", ".join(entries[:5]) + (f" and {len(entries) - 5} more" if len(entries) > 5 else "")
    return (
        f"shopseg: demo: refusing to overwrite {out}: it holds files the demo did not write "
        f"({shown}) and no {MARKER} marker; set DEMO_DIR (or --out) to another folder, "
        "or remove this one yourself"
    )


def _prepare(out: Path, settings: dict[str, object], reuse: bool) -> bool:
    """Empty the demo's own files in `out` and mark it; False when reuse keeps it as it is."""
    marker = out / MARKER
    if reuse and marker.is_file():
        try:
            recorded = json.loads(marker.read_text())
        except ValueError:
            recorded = None
        fmt = str(settings["format"])
        wanted = [table_path(out, name, fmt) for name in (*INPUT_TABLES, TRUTH_TABLE)]
        if recorded == settings | {"complete": True} and all(p.is_file() for p in wanted):
            return False
    out.mkdir(parents=True, exist_ok=True)
    # marked before the first table is written, so an interrupted run is regenerated
    marker.write_text(json.dumps(settings | {"complete": False}) + "\n")
    for path in [*_outputs(out), *out.glob(f"{_LEGACY_MARKER}*")]:
        path.unlink(missing_ok=True)
    return True


def main(argv: list[str] | None = None) -> int:
    """Command line entry point: generate demo data into a folder and print row counts.

    It writes only into a new or empty folder, or one it marked itself; any other folder
    is refused with one line, untouched.

    Parameters
    ----------
    argv : list of str, optional
        Arguments after the program name; default ``sys.argv[1:]``.

    Returns
    -------
    int
        0 when the data was written or kept (``--reuse``), 2 when the folder was refused.
    """
    parser = argparse.ArgumentParser(
        prog="python -m shopseg.demo",
        description="Generate deterministic demo shop data with planted customer personas.",
    )
    parser.add_argument("--customers", type=int, required=True, help="registered customers")
    parser.add_argument(
        "--out", type=Path, required=True, help="output folder: new, empty or a demo folder"
    )
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--events-per-customer", type=float, default=12.0)
    parser.add_argument("--format", choices=FORMATS, default="parquet")
    parser.add_argument("--as-of", default="2026-06-30", help="YYYY-MM-DD")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="keep the folder as it is when it holds complete demo data of these settings",
    )
    args = parser.parse_args(argv)
    refusal = _refusal(args.out)
    if refusal is not None:
        print(refusal, file=sys.stderr)
        return 2
    settings: dict[str, object] = {
        "customers": args.customers,
        "seed": args.seed,
        "events_per_customer": args.events_per_customer,
        "as_of": args.as_of,
        "format": args.format,
    }
    if not _prepare(args.out, settings, args.reuse):
        print(f"demo data already in {args.out} ({args.customers} customers)")
        return 0
    started = time.perf_counter()
    counts = generate_to(
        args.out,
        customers=args.customers,
        seed=args.seed,
        events_per_customer=args.events_per_customer,
        as_of=args.as_of,
        fmt=args.format,
    )
    (args.out / MARKER).write_text(json.dumps(settings | {"complete": True}) + "\n")
    seconds = time.perf_counter() - started
    summary = " ".join(f"{name}={rows}" for name, rows in counts.items())
    print(f"{summary} seconds={seconds:.2f} out={args.out}")
    return 0
