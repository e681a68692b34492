"""Slim CI: after changing one feature model, state:modified+ selects it and its descendants."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import copy_project, reachable, run_dbt

pytestmark = pytest.mark.e2e


def test_state_modified_selects_only_the_change_and_its_descendants(tmp_path: Path) -> None:
    project = copy_project(tmp_path / "project")
    prod = run_dbt(["parse"], tmp_path / "prod", None, project=project)
    assert prod.ok, prod.output[-3000:]

    changed = project / "models/intermediate/customers/int_customers_behaviour.sql"
    changed.write_text(changed.read_text().replace("as session_count,", "as session_count ,", 1))

    pr = run_dbt(
        [
            "ls",
            "--select",
            "state:modified+",
            "--state",
            str(prod.target_path),
            "--resource-type",
            "model",
            "--output",
            "json",
            "--quiet",
        ],
        tmp_path / "pr",
        None,
        project=project,
    )
    assert pr.ok, pr.output[-3000:]
    selected = {
        json.loads(line)["unique_id"] for line in pr.output.splitlines() if line.startswith("{")
    }
    manifest = json.loads((prod.target_path / "manifest.json").read_text())
    node = "model.shopseg.int_customers_behaviour"
    expected = {n for n in reachable(manifest, node, "child_map") if n.startswith("model.")}
    assert selected == expected
    assert {"model.shopseg.customer_features", "model.shopseg.customer_segments"} <= selected
    assert "model.shopseg.int_customers_orders" not in selected
