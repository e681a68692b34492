"""Every setting's default agrees in the library, dbt_project.yml and the README (no dbt).

The library's settings dataclasses (SegmentConfig, ForestConfig) hold each default and the
var that sets it; dbt_project.yml repeats the default as the var's value, the segmentation
models' YAML config passes the var to the dataclass field, and the README's settings table
documents it. These tests read the three files as text and compare.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from shopseg.config import SegmentConfig, setting_vars
from shopseg.forest import ForestConfig

PROJECT = Path(__file__).resolve().parents[2]
MODELS_YAML = PROJECT / "python_models" / "segmentation" / "_segmentation__models.yml"
VAR_CALL = re.compile(r"^\{\{\s*var\(\s*'([^']+)'\s*\)\s*\}\}$")
# the models whose config `shopseg:` mapping each dataclass reads (dbt.config.get("shopseg"))
CONFIG_MODELS = {
    SegmentConfig: ["segment_kmeans_fit"],
    ForestConfig: ["segment_forest", "segment_forest_scores"],
}


def project_vars() -> dict[str, Any]:
    """The vars of dbt_project.yml with their defaults."""
    return yaml.safe_load((PROJECT / "dbt_project.yml").read_text())["vars"]


def passed_vars(model: str) -> dict[str, str]:
    """Field name to var name of a model's `shopseg:` config (each value "{{ var('x') }}")."""
    models = yaml.safe_load(MODELS_YAML.read_text())["models"]
    (entry,) = [m for m in models if m["name"] == model]
    out = {}
    for name, value in entry["config"]["shopseg"].items():
        match = VAR_CALL.match(str(value).strip())
        assert match, f"{model}: config shopseg.{name} = {value!r} is not one var"
        out[name] = match.group(1)
    return out


def readme_settings(text: str) -> dict[str, Any]:
    """Var to default of every row of the README's settings tables (header `| var | ...`).

    A row may name several vars (`shop_k_min`, `shop_k_max` | 3, 8): the defaults are taken
    in order when there are as many as vars, else every var of the row gets the whole text.
    A name with a placeholder (`shop_<table>_relation` (`orders`, `customers`)) stands for
    one var per name that follows it.
    """
    settings: dict[str, Any] = {}
    in_table = False
    for line in text.splitlines():
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
        if len(cells) < 2:
            in_table = False
            continue
        if cells[0].lower() == "var":
            in_table = True
            continue
        if not in_table or set(cells[0]) <= set("-: "):
            continue
        names = re.findall(r"`([^`]+)`", cells[0])
        pattern = next((n for n in names if re.search(r"<\w+>", n)), None)
        if pattern is not None:
            names = [re.sub(r"<\w+>", other, pattern) for other in names[1:]]
        defaults = _top_level_split(cells[1])
        for i, name in enumerate(names):
            text_value = defaults[i] if len(defaults) == len(names) else cells[1]
            settings[name] = _readme_value(text_value)
    return settings


def _top_level_split(text: str) -> list[str]:
    """Text split at ", " outside parentheses and backticks."""
    parts, depth, quoted, current = [], 0, False, ""
    for i, char in enumerate(text):
        if char == "`":
            quoted = not quoted
        elif not quoted and char in "([{":
            depth += 1
        elif not quoted and char in ")]}":
            depth -= 1
        if char == "," and not quoted and depth == 0 and text[i + 1 : i + 2] == " ":
            parts.append(current)
            current = ""
            continue
        current += char
    return [p.strip() for p in [*parts, current]]


def _readme_value(text: str) -> Any:
    """A README default as a value: a remark in parentheses, backticks and 1,000s dropped."""
    bare = re.sub(r"\s*\(.*\)$", "", text).replace("`", "").strip()
    bare = re.sub(r"(?<=\d),(?=\d{3}\b)", "", bare)
    try:
        return yaml.safe_load(bare)
    except yaml.YAMLError:
        return bare


def default_differences(
    cls: type,
    passed: Mapping[str, str],
    dbt_vars: Mapping[str, Any],
    readme: Mapping[str, Any],
) -> list[str]:
    """One line per setting whose var or default is not the same in every place.

    Parameters
    ----------
    cls : type
        SegmentConfig or ForestConfig.
    passed : Mapping[str, str]
        Field name to var name, as the models' YAML config passes them (keys that are no
        field of `cls`, such as refit, are read elsewhere and skipped).
    dbt_vars : Mapping[str, Any]
        dbt_project.yml's vars.
    readme : Mapping[str, Any]
        The README settings tables' var to default.

    Returns
    -------
    list[str]
        Empty when every place agrees. Defaults are compared as the library reads them
        (`Settings.from_mapping`), so a null features var equals DEFAULT_FEATURES.
    """
    fields = {f.name: f for f in dataclasses.fields(cls)}
    names = setting_vars(cls)
    out = []
    for name, var in passed.items():
        if name not in fields:
            continue
        if names.get(name) != var:
            field_var = names.get(name)
            out.append(
                f"{cls.__name__}.{name}: the YAML passes {var}, the field's var is {field_var}"
            )
            continue
        default = fields[name].default
        for place, values in (("dbt_project.yml", dbt_vars), ("README", readme)):
            if var not in values:
                out.append(f"{var}: missing from {place} ({cls.__name__} default {default!r})")
                continue
            try:
                read = getattr(cls.from_mapping({name: values[var]}), name)
            except ValueError as exc:
                out.append(f"{var}: {place} default {values[var]!r} is not readable: {exc}")
                continue
            if read != default:
                out.append(
                    f"{var}: {place} default {values[var]!r}, {cls.__name__} default {default!r}"
                )
    for name, var in names.items():
        if var in dbt_vars and name not in passed:
            out.append(f"{var}: in dbt_project.yml but the YAML config does not pass it")
    return out


@pytest.mark.parametrize(
    ("cls", "model"),
    [(cls, model) for cls, models in CONFIG_MODELS.items() for model in models],
)
def test_the_library_dbt_and_the_readme_have_the_same_defaults(cls: type, model: str) -> None:
    readme = readme_settings((PROJECT / "README.md").read_text())
    differences = default_differences(cls, passed_vars(model), project_vars(), readme)
    assert not differences, "\n".join(differences)


def test_every_dbt_var_is_in_the_readme() -> None:
    documented = readme_settings((PROJECT / "README.md").read_text())
    missing = [var for var in project_vars() if var not in documented]
    assert not missing, f"dbt_project.yml vars missing from the README settings table: {missing}"


def test_a_default_that_differs_is_reported() -> None:
    passed = {"k_min": "shop_k_min", "k": "shop_k", "features": "shop_segment_features"}
    dbt_vars = {"shop_k_min": 4, "shop_k": None, "shop_segment_features": None}
    readme = {"shop_k_min": 3, "shop_segment_features": None}
    assert default_differences(SegmentConfig, passed, dbt_vars, readme) == [
        "shop_k_min: dbt_project.yml default 4, SegmentConfig default 3",
        "shop_k: missing from README (SegmentConfig default None)",
    ]
    wrong_var = {"k_min": "shop_min_k"}
    assert default_differences(SegmentConfig, wrong_var, {}, {}) == [
        "SegmentConfig.k_min: the YAML passes shop_min_k, the field's var is shop_k_min"
    ]
    unpassed = default_differences(ForestConfig, {}, {"shop_rules_max_depth": 4}, {})
    assert unpassed == [
        "shop_rules_max_depth: in dbt_project.yml but the YAML config does not pass it"
    ]


def test_the_readme_table_reader() -> None:
    text = "\n".join(
        [
            "| var | default | meaning |",
            "|---|---|---|",
            "| `shop_<table>_relation` (`orders`, `events`) | null | input relation |",
            "| `shop_k_min`, `shop_k_max`, `shop_k` | 3, 8, null | k range |",
            "| `shop_status_map` | `{}` | words (`{word: completed \\| cancelled}`) |",
            "| `shop_rfm_segments_relation`, `shop_names` | null (the seeds) | lookups |",
            "| `shop_fit_sample_size` | 200,000 | customers |",
            "",
            "| not | a settings table |",
            "| `shop_elsewhere` | 1 |",
        ]
    )
    assert readme_settings(text) == {
        "shop_orders_relation": None,
        "shop_events_relation": None,
        "shop_k_min": 3,
        "shop_k_max": 8,
        "shop_k": None,
        "shop_status_map": {},
        "shop_rfm_segments_relation": None,
        "shop_names": None,
        "shop_fit_sample_size": 200000,
    }
