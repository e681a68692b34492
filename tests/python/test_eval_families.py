"""The evaluation families (library level, no dbt): tables, persona shares, noise, planted
interests, CDNOW parsing."""

from __future__ import annotations

import zipfile

import numpy as np
import pandas as pd
import pytest

from shopseg.evaluate import cdnow, families
from shopseg.evaluate.families import (
    FAMILIES,
    NOISE,
    NOISE_SHARE,
    PRODUCTS_PER_CATEGORY,
    Family,
    Persona,
    category_preferences,
    generate_family,
)

CUSTOMERS = 2000
CONTRACT = ("customers", "orders", "order_items", "products", "events")


@pytest.fixture(scope="module", params=sorted(FAMILIES))
def family_tables(request: pytest.FixtureRequest) -> tuple:
    family = FAMILIES[request.param]
    return family, generate_family(family, CUSTOMERS)


def test_tables_and_row_counts(family_tables: tuple) -> None:
    family, tables = family_tables
    expected = [t for t in CONTRACT if family.has_events or t != "events"]
    assert sorted(t for t in tables if t != "personas") == sorted(expected)
    assert len(tables["customers"]) == len(tables["personas"]) == CUSTOMERS
    assert tables["customers"]["customer_id"].is_unique
    assert set(tables["orders"]["customer_id"]) <= set(tables["customers"]["customer_id"])
    assert tables["orders"]["order_id"].is_unique
    assert set(tables["order_items"]["order_id"]) == set(tables["orders"]["order_id"])
    assert len(tables["orders"]) > CUSTOMERS  # several orders per buying customer
    demographics = {"birth_year", "gender", "country", "income", "acquisition_channel"}
    columns = set(tables["customers"].columns)
    if family.has_demographics:
        assert demographics <= columns
    else:
        assert columns == {"customer_id", "signup_at"}
    if family.has_events:
        events = tables["events"]
        assert events["event_id"].is_unique
        assert set(events["event_type"]) >= {"page_view", "product_view", "purchase"}
        # every order has its purchase event
        assert (events["event_type"] == "purchase").sum() == len(tables["orders"])


def test_persona_shares(family_tables: tuple) -> None:
    family, tables = family_tables
    shares = tables["personas"]["persona"].value_counts(normalize=True)
    assert 5 <= len(family.personas) <= 9
    assert shares[NOISE] == pytest.approx(NOISE_SHARE, abs=0.002)
    for persona in family.personas:
        assert shares[persona.name] == pytest.approx(persona.share, abs=0.002)
    assert any(p.share == pytest.approx(0.03) for p in family.personas)  # the 3% persona
    assert sum(p.share for p in family.personas) + NOISE_SHARE == pytest.approx(1.0)


def test_buyers_browsers_and_heavy_tail(family_tables: tuple) -> None:
    family, tables = family_tables
    orders, personas = tables["orders"], tables["personas"]
    buyers = set(orders["customer_id"])
    never = personas.loc[~personas["customer_id"].isin(buyers), "persona"].value_counts()
    zero_order = [p.name for p in family.personas if p.orders == 0]
    assert zero_order and all(never.get(name, 0) > 0 for name in zero_order)
    if family.has_events:  # those customers browse: sessions without an order
        browsing = set(tables["events"]["customer_id"]) - buyers
        assert len(browsing) >= 0.05 * CUSTOMERS
    spend = orders.groupby("customer_id")["order_total"].sum()
    assert spend.max() > 20 * spend.median()  # heavy-tailed spend
    assert (orders["order_total"] > 0).all()
    assert (orders["ordered_at"] <= pd.Timestamp("2025-12-31")).all()


def test_correlated_features() -> None:
    tables = generate_family(FAMILIES["grocery"], CUSTOMERS)
    orders = tables["orders"].groupby("customer_id")["order_total"].mean().rename("aov")
    frame = tables["customers"].join(orders, on="customer_id", how="inner")
    within = frame.merge(tables["personas"], on="customer_id")
    within = within[within["persona"] == "weekly_family"]
    # the latent wealth trait ties income and order value inside a persona
    assert np.corrcoef(np.log(within["income"]), np.log(within["aov"]))[0, 1] > 0.2


def test_deterministic() -> None:
    family = FAMILIES["fashion_no_events"]
    first, second = generate_family(family, 300), generate_family(family, 300)
    for name in first:
        pd.testing.assert_frame_equal(first[name], second[name])
    other = generate_family(family, 300, seed=7)
    assert not first["orders"].equals(other["orders"])


def test_cdnow_from_a_local_wheel(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = (
        " customer_id  date number_of_cds  dollar_value\r\n"
        " 00001 19970101  1   11.77\r\n 00002 19970112  5   77.00\r\n 00002 19970330  2   20.76\r\n"
    )
    wheel = tmp_path / "Lifetimes-0.11.3-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr(cdnow.MEMBER, text)
    orders = cdnow.read_orders(tmp_path)  # a folder holding the wheel
    assert list(orders["order_id"]) == [1, 2, 3]
    assert list(orders["customer_id"]) == [1, 2, 2]
    assert list(orders["order_total"]) == [11.77, 77.00, 20.76]
    assert orders["ordered_at"].iloc[2] == pd.Timestamp("1997-03-30")
    assert set(orders["status"]) == {"completed"}
    monkeypatch.setenv(cdnow.ENV, str(wheel))
    assert cdnow.find_wheel(None) == wheel
    monkeypatch.delenv(cdnow.ENV)
    with pytest.raises(FileNotFoundError, match="--cdnow-wheel"):  # nothing is downloaded
        cdnow.find_wheel(None)


def _lines(tables: dict) -> pd.DataFrame:
    """Order lines with their category, ladder step, buying customer's persona."""
    lines = tables["order_items"].merge(tables["products"], on="product_id")
    lines = lines.merge(tables["orders"][["order_id", "customer_id"]], on="order_id")
    lines = lines.merge(tables["personas"], on="customer_id")
    lines["step"] = (lines["product_id"] - 1) % PRODUCTS_PER_CATEGORY
    return lines


def _planted_interests_show(family, tables: dict) -> list[str]:
    """What is missing of the family's planted interests in its order lines (empty: all there)."""
    lines = _lines(tables)
    shares = pd.crosstab(lines["persona"], lines["category"], normalize="index")
    uniform = 1 / len(family.categories)
    missing = []
    for persona in family.personas:
        if not persona.favourites:
            continue
        favourite = persona.favourites[0]
        row = shares.loc[persona.name]
        if row[favourite] < 2.5 * uniform or row.idxmax() != favourite:
            missing.append(f"{persona.name}: {favourite} {row[favourite]:.2f}")
        step = lines.loc[lines["persona"] == persona.name, "step"].mean()
        middle = (PRODUCTS_PER_CATEGORY - 1) / 2
        if persona.price_position > 0 and step < middle + 1:
            missing.append(f"{persona.name}: premium, mean step {step:.2f}")
        if persona.price_position < 0 and step > middle - 1:
            missing.append(f"{persona.name}: bargain, mean step {step:.2f}")
    return missing


def test_planted_interests(family_tables: tuple, monkeypatch: pytest.MonkeyPatch) -> None:
    family, tables = family_tables
    assert _planted_interests_show(family, tables) == []
    lines = _lines(tables)
    noise = lines[lines["persona"] == NOISE]  # noise customers pick products uniformly
    assert np.allclose(
        noise["category"].value_counts(normalize=True), 1 / len(family.categories), atol=0.03
    )
    # a dearer step of a category's ladder costs more, for the same kind of buyer
    by_step = noise.groupby("step")["unit_price"].median()
    assert by_step.iloc[-1] > 1.5 * by_step.iloc[0]
    # the check fails without the planting: every line's product uniform, as noise's
    monkeypatch.setattr(families, "_interest_products", lambda *args: args[-1])
    uniform = generate_family(family, CUSTOMERS)
    assert len(_planted_interests_show(family, uniform)) >= len(
        [p for p in family.personas if p.favourites]
    )
    # the interests have their own generator: customers, events, order counts and times stay
    for name in ("customers", "events", "personas"):
        if name in tables:
            pd.testing.assert_frame_equal(tables[name], uniform[name])
    same = ["order_id", "customer_id", "ordered_at", "status"]
    pd.testing.assert_frame_equal(tables["orders"][same], uniform["orders"][same])


def test_category_preferences() -> None:
    for family in FAMILIES.values():
        preferences = category_preferences(family)
        assert preferences.shape == (len(family.personas), len(family.categories))
        assert np.allclose(preferences.sum(axis=1), 1)
        for persona, row in zip(family.personas, preferences, strict=True):
            if persona.favourites:  # the first favourite is the most preferred
                assert family.categories[int(row.argmax())] == persona.favourites[0]
        np.testing.assert_array_equal(preferences, category_preferences(family))
    grocery = FAMILIES["grocery"]
    bad = Persona("x", 0.1, 1, (10, 0.1), 0.0, (0, 1), (1, 2), favourites=("shoes",))
    with pytest.raises(ValueError, match="favourites"):
        Family("bad", "a grocer selling shoes", (bad,), grocery.categories)
