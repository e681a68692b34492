"""The input contract's one home is the `shopseg` source's YAML: the README's table and the
package's version facts are checked against their homes here."""

from __future__ import annotations

import re

import yaml
from conftest import PROJECT

import shopseg

SOURCES = PROJECT / "models" / "staging" / "shop" / "_shop__sources.yml"
KINDS = {"text", "integer", "number", "timestamp"}


def contract() -> dict[str, dict[str, dict]]:
    """{table: {column: meta}} from the source YAML."""
    (source,) = yaml.safe_load(SOURCES.read_text())["sources"]
    assert source["name"] == "shopseg"
    return {
        table["name"]: {column["name"]: column["meta"] for column in table["columns"]}
        for table in source["tables"]
    }


def readme_contract() -> dict[str, tuple[bool, list[str]]]:
    """{table: (required, [columns])} from the README's "Input contract" table."""
    text = (PROJECT / "README.md").read_text()
    section = text.split("### Input contract", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0].startswith("`"):
            columns = re.findall(r"`([a-z_]+)`", re.sub(r"\([^)]*\)", "", cells[2]))
            rows[cells[0].strip("`")] = (cells[1] == "yes", columns)
    return rows


def test_every_contract_column_has_a_kind_and_a_required_flag() -> None:
    for table, columns in contract().items():
        for name, meta in columns.items():
            assert meta["kind"] in KINDS, (table, name)
            assert isinstance(meta["required"], bool), (table, name)
    assert [c for c, m in contract()["orders"].items() if m["required"]] == [
        "order_id",
        "customer_id",
        "ordered_at",
        "order_total",
    ]


def test_readme_table_matches_the_contract() -> None:
    readme = readme_contract()
    assert set(readme) == set(contract())
    for table, columns in contract().items():
        required, listed = readme[table]
        assert listed == list(columns), table
        assert required == (table == "orders"), table


def test_versions_have_one_value() -> None:
    project = yaml.safe_load((PROJECT / "dbt_project.yml").read_text())
    assert project["version"] == project["vars"]["shopseg_package_version"] == shopseg.__version__
