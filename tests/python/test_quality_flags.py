"""Each data-quality rule has one home: a flag column that data_quality_issues only counts.

A check of one row is a boolean flag computed once, in the model that first sees the row
(staging for the row's own values, an ``int_<table>__flagged`` view for its date against
the as-of time); the cleaning models exclude or repair on that flag and data_quality_issues
counts it as ``count(case when <flag> then 1 end) as <flag>_rows``, so the report and the
cleaning cannot disagree. These tests read the SQL files as text (no dbt build) and fail
when a check of data_quality_issues is not such a count, when a flag is defined in two
models, when no cleaning model acts on a counted flag, or when a flag that excludes rows
is not counted. Each rule of the guard has a case below that shows it failing.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

MODELS = Path(__file__).resolve().parents[2] / "models"
REPORT = "data_quality_issues"

# Checks across rows, counted from the keys in data_quality_issues (no single row holds
# the problem): duplicates, references to unknown rows, customers seen only later.
CROSS_ROW_CHECKS = {
    ("orders", "order_id duplicated (extra copies)"),
    ("orders", "customer not in customers"),
    ("customers", "customer_id duplicated (extra copies)"),
    ("events", "customer not in customers"),
    ("order_items", "order not in orders"),
    ("products", "product_id duplicated (extra copies)"),
    ("all tables", "customer seen only after the as-of time"),
}

# Flags of the flag homes that are no check of their own: is_valid combines the checks,
# and a missing quantity or price is excluded without a row in the report (yet).
UNCOUNTED_FLAGS = {"is_valid", "is_quantity_or_price_missing"}

FLAG_HOME = re.compile(r"^(stg_shop__\w+|int_\w+__flagged)$")
IMPORT_CTE = re.compile(
    r"^(\w+) as \(\s*select \* from \{\{ ref\('shopseg', '(\w+)'\) \}\}\s*\)", re.MULTILINE
)
CHECK = re.compile(
    r"select\s+'(?P<table>[^']+)' as table_name,\s+'(?P<problem>[^']+)'\s+as problem,"
    r"\s+'[^']+' as handling,\s+(?P<expr>.+?)\s+as rows_affected\s+from (?P<source>\w+)",
    re.DOTALL,
)


def read_models(root: Path = MODELS) -> dict[str, str]:
    """The SQL text of every model under `root`, by model name."""
    return {path.stem: path.read_text() for path in sorted(root.rglob("*.sql"))}


def strip_comments(sql: str) -> str:
    """`sql` without Jinja comments and `--` line comments."""
    sql = re.sub(r"\{#.*?#\}", "", sql, flags=re.DOTALL)
    return re.sub(r"--[^\n]*", "", sql)


def defines(sql: str, column: str) -> bool:
    """Whether `sql` names an output column `column` (`... as <column>`)."""
    return re.search(rf"\bas {column}\b", sql) is not None


def home_of(flag: str, model: str, files: dict[str, str]) -> list[str]:
    """The models that define `flag` along the rows `model` passes through (`<cte>.*`)."""
    sql = strip_comments(files[model])
    homes = [model] if defines(sql, flag) else []
    imports = dict(IMPORT_CTE.findall(sql))
    for alias in sorted(set(re.findall(r"\b(\w+)\.\*", sql)) & imports.keys()):
        homes += home_of(flag, imports[alias], files)
    return homes


def report_checks(sql: str) -> list[tuple[str, str, str]]:
    """(table_name, problem, rows_affected expression) of every check of the report."""
    body = sql[sql.index("checks as (") :]
    return [(m["table"], m["problem"], m["expr"].strip()) for m in CHECK.finditer(body)]


def ctes(sql: str) -> dict[str, str]:
    """The body of every CTE of `sql` (`name as ( ... )` at the start of a line), by name."""
    bodies = {}
    for match in re.finditer(r"^(\w+) as \(", sql, flags=re.MULTILINE):
        depth, end = 1, match.end()
        while depth:
            depth += {"(": 1, ")": -1}.get(sql[end], 0)
            end += 1
        bodies[match[1]] = sql[match.end() : end - 1]
    return bodies


def definitions(body: str, column: str) -> list[str]:
    """The expressions that `body` names `column`, whitespace collapsed."""
    body = " ".join(body.split())
    found = []
    for match in re.finditer(rf" as {column}\b", body):
        depth, start = 0, match.start()
        while start > 0 and not (depth == 0 and body[start - 1] == ","):
            start -= 1
            depth += {")": 1, "(": -1}.get(body[start], 0)
            if depth < 0:
                break
        expression = body[start : match.start()].strip().removeprefix("(").strip()
        found.append(re.sub(r"^select ", "", expression))
    return found


def quality_flag_problems(files: dict[str, str]) -> list[str]:
    """Every way the report's checks and the cleaning models' flags fail to share one home.

    Parameters
    ----------
    files : dict of str to str
        SQL text of every model by model name, with `data_quality_issues` among them.

    Returns
    -------
    list of str
        One line per problem; empty when every check of one row counts a flag that is
        defined in exactly one model and acted on by a cleaning model, and every flag
        that excludes rows is counted.
    """
    sql = strip_comments(files[REPORT])
    imports = dict(IMPORT_CTE.findall(sql))
    bodies = ctes(sql)
    problems = []
    counted = set()
    for table, problem, expr in report_checks(sql):
        if (table, problem) in CROSS_ROW_CHECKS:
            continue
        match = re.fullmatch(r"(?:\w+\.)?((?:is|has)_\w+)_rows", expr)
        if match is None:
            problems.append(f"{table}: '{problem}' is not a count of a flag ({expr})")
            continue
        flag = match[1]
        counted.add(flag)
        count = rf"count\(case when (?:\w+\.)?{flag} then 1 end\)"
        total = rf"coalesce\(sum\((?:\w+\.)?{flag}_rows\), 0\)"
        for body in bodies.values():
            for definition in definitions(body, f"{flag}_rows"):
                if not re.fullmatch(f"{count}|{total}", definition):
                    problems.append(
                        f"{table}: '{problem}' must count the flag {flag} "
                        f"(count(case when {flag} then 1 end)), not {definition}"
                    )
        readers = [
            imports[re.search(r"\bfrom (\w+)", body)[1]]
            for body in bodies.values()
            if any(re.fullmatch(count, d) for d in definitions(body, f"{flag}_rows"))
            and re.search(r"\bfrom (\w+)", body)[1] in imports
        ]
        if not readers:
            problems.append(f"{table}: '{problem}' counts {flag} from no model the report reads")
        for model in readers:
            homes = home_of(flag, model, files)
            if len(homes) != 1:
                problems.append(
                    f"{table}: flag {flag} must be defined in one model that {model} passes "
                    f"through, found {homes or 'none'}"
                )
        uses = sum(
            len(re.findall(rf"\b{flag}\b", text)) - len(re.findall(rf"\bas {flag}\b", text))
            for name, text in ((n, strip_comments(t)) for n, t in files.items())
            if name != REPORT
        )
        if uses == 0:
            problems.append(f"{table}: flag {flag} is counted but no cleaning model acts on it")
    for name, text in files.items():
        if FLAG_HOME.match(name):
            for flag in re.findall(r"\bas ((?:is|has)_\w+)\b", strip_comments(text)):
                if flag not in counted and flag not in UNCOUNTED_FLAGS:
                    problems.append(f"{name}: flag {flag} is not counted in {REPORT}")
    return problems


# --- the guard on the project's models ---------------------------------------------------


def test_every_row_check_counts_a_flag_with_one_home() -> None:
    assert quality_flag_problems(read_models()) == []


def test_the_report_lists_every_check_it_had() -> None:
    checks = report_checks(strip_comments(read_models()[REPORT]))
    assert len(checks) == 28
    assert {(table, problem) for table, problem, _ in checks} >= CROSS_ROW_CHECKS


# --- each rule of the guard fails on a broken copy ---------------------------------------


def broken(model: str, old: str, new: str) -> dict[str, str]:
    """The project's models with `old` replaced by `new` once in `model`."""
    files = read_models()
    assert files[model].count(old) == 1, f"{old!r} not once in {model}"
    files[model] = files[model].replace(old, new)
    return files


def test_a_rule_written_again_in_the_report_fails() -> None:
    files = broken(
        REPORT,
        "count(case when is_total_negative then 1 end)",
        "count(case when order_total < 0 then 1 end)",
    )
    assert any("must count the flag is_total_negative" in p for p in quality_flag_problems(files))


def test_a_check_that_is_no_flag_count_fails() -> None:
    files = broken(
        REPORT,
        "is_total_negative_rows as rows_affected",
        "is_total_negative_rows + is_total_missing_rows as rows_affected",
    )
    assert any("is not a count of a flag" in p for p in quality_flag_problems(files))


def test_a_flag_defined_twice_fails() -> None:
    files = broken(
        "int_orders__flagged",
        "        orders.*,\n",
        "        orders.*,\n        orders.order_total < 0 as is_total_negative,\n",
    )
    assert any(
        "is_total_negative must be defined in one model" in p for p in quality_flag_problems(files)
    )


def test_a_flag_no_cleaning_model_acts_on_fails() -> None:
    files = broken("int_orders__flagged", "        and not is_total_negative\n", "")
    assert any("is_total_negative is counted but no" in p for p in quality_flag_problems(files))


def test_a_flag_that_is_not_counted_fails() -> None:
    files = broken(
        "stg_shop__orders",
        "        status = 'pending' as is_status_pending,",
        "        status = 'pending' as is_status_pending,\n"
        "        discount_amount < 0 as is_discount_negative,",
    )
    assert "stg_shop__orders: flag is_discount_negative is not counted in data_quality_issues" in (
        quality_flag_problems(files)
    )


@pytest.mark.parametrize("flag", ["is_ordered_in_future", "is_session_id_missing"])
def test_a_counted_flag_nobody_defines_fails(flag: str) -> None:
    files = read_models()
    for name in files:
        if name != REPORT:
            files[name] = re.sub(rf"\bas {flag}\b", f"as {flag}_renamed", files[name])
    assert any(
        f"flag {flag} must be defined in one model" in p for p in quality_flag_problems(files)
    )
