"""The evaluation families (library level, no dbt): tables, persona shares, noise, CDNOW parsing."""

from __future__ import annotations

import zipfile

import numpy as np
import pandas as pd
import pytest

from shopseg.evaluate import cdnow
from shopseg.evaluate.families import FAMILIES, NOISE, NOISE_SHARE, generate_family

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
