"""Tests for the deterministic demo data generator."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from shopseg import demo
from shopseg.demo import interests
from shopseg.demo.interests import favourite_categories

N = 2000
AS_OF = pd.Timestamp("2026-06-30")
SHARES = {
    "loyal_high_spender": 0.12,
    "discount_hunter": 0.15,
    "browser": 0.18,
    "one_time_buyer": 0.18,
    "new_customer": 0.12,
    "lapsed_big_spender": 0.10,
    "registered_prospect": 0.15,
}
COLUMNS = {
    "customers": [
        "customer_id",
        "signup_at",
        "birth_year",
        "gender",
        "country",
        "income",
        "acquisition_channel",
    ],
    "orders": [
        "order_id",
        "customer_id",
        "ordered_at",
        "order_total",
        "discount_amount",
        "status",
    ],
    "order_items": ["order_id", "product_id", "quantity", "unit_price"],
    "products": ["product_id", "category"],
    "events": ["event_id", "customer_id", "session_id", "event_type", "occurred_at"],
    "personas": ["customer_id", "persona"],
}


@pytest.fixture(scope="module")
def data() -> dict[str, pd.DataFrame]:
    """Generate the small default data set once for the module."""
    return demo.generate(customers=N, seed=42)


def _text(s: pd.Series) -> pd.Series:
    """Normalise a string-like column (categorical, str, object) for comparisons."""
    return s.astype(object).where(s.notna(), None).reset_index(drop=True)


def test_deterministic(data: dict[str, pd.DataFrame]) -> None:
    """Same arguments give identical tables; another seed gives different ones."""
    again = demo.generate(customers=N, seed=42)
    assert list(again) == ["customers", "orders", "order_items", "products", "events", "personas"]
    for name, df in data.items():
        pd.testing.assert_frame_equal(df, again[name])
    other = demo.generate(customers=N, seed=43)
    assert not other["orders"]["order_total"].equals(data["orders"]["order_total"])


def test_schema(data: dict[str, pd.DataFrame]) -> None:
    """Tables have the documented columns in order and compact dtypes."""
    for name, cols in COLUMNS.items():
        assert list(data[name].columns) == cols, name
    c, o, i, e = data["customers"], data["orders"], data["order_items"], data["events"]
    for df, col in [(c, "signup_at"), (o, "ordered_at"), (e, "occurred_at")]:
        assert df[col].dtype == "datetime64[us]"
    for df, col in [(c, "customer_id"), (o, "order_id"), (o, "customer_id"), (e, "event_id")]:
        assert df[col].dtype == "int64"
    assert i["product_id"].dtype == "int64" and data["products"]["product_id"].dtype == "int64"
    assert e["customer_id"].dtype == "Int64"
    assert c["birth_year"].dtype == "Int32" and i["quantity"].dtype == "int32"
    for df, col in [(c, "income"), (o, "order_total"), (o, "discount_amount"), (i, "unit_price")]:
        assert df[col].dtype == "float64"
        values = df[col].dropna()
        assert np.allclose(values, values.round(2))
    for df, col in [(c, "gender"), (c, "country"), (o, "status"), (e, "event_type")]:
        assert isinstance(df[col].dtype, pd.CategoricalDtype)
    assert set(e["event_type"].cat.categories) == {
        "page_view",
        "product_view",
        "search",
        "add_to_cart",
        "checkout",
        "purchase",
    }
    assert set(o["status"].dropna()) == {"completed", "cancelled", "returned"}
    assert set(c["country"].dropna()) == {"DE", "FR", "GB", "US", "ES", "IT", "NL", "PL"}
    assert set(c["acquisition_channel"].dropna()) == {
        "organic",
        "paid_search",
        "social",
        "email",
        "referral",
        "affiliate",
    }
    products = data["products"]
    assert 150 <= len(products) <= 250 and products["category"].nunique() == 8


def test_null_rates(data: dict[str, pd.DataFrame]) -> None:
    """Nullable columns carry roughly the documented share of nulls."""
    c, o = data["customers"], data["orders"]
    assert 0.015 < c["birth_year"].isna().mean() < 0.05
    assert 0.07 < c["income"].isna().mean() < 0.13
    assert 0.0 < c["country"].isna().mean() < 0.03
    assert 0.005 < c["acquisition_channel"].isna().mean() < 0.04
    assert 0.0 < c["gender"].isna().mean() < 0.1
    assert {"F", "female", "Woman", "M", "male", "Man", "non-binary", "unknown"} <= set(
        c["gender"].dropna()
    )
    assert 0.08 < o["status"].isna().mean() < 0.12
    assert o["discount_amount"].notna().any() and o["discount_amount"].isna().any()
    assert (o["discount_amount"].dropna() > 0).all()


def test_ids(data: dict[str, pd.DataFrame]) -> None:
    """Ids are unique, customers are 1..N and all foreign keys resolve."""
    c, o, i, e, p = (data[k] for k in ("customers", "orders", "order_items", "events", "personas"))
    assert (c["customer_id"].to_numpy() == np.arange(1, N + 1)).all()
    for df, col in [(o, "order_id"), (e, "event_id"), (data["products"], "product_id")]:
        assert df[col].is_unique, col
    assert p["customer_id"].is_unique
    assert set(i["order_id"]) == set(o["order_id"])
    assert set(i["product_id"]) <= set(data["products"]["product_id"])
    assert not i.duplicated(["order_id", "product_id"]).any()
    assert (i["quantity"] >= 1).all() and (i["unit_price"] > 0).all()
    assert set(e["customer_id"].dropna()) <= set(c["customer_id"])
    assert set(o["customer_id"]) <= set(p["customer_id"])


def test_order_totals(data: dict[str, pd.DataFrame]) -> None:
    """A completed order's total equals its items minus its discount, within a cent."""
    o, i = data["orders"], data["order_items"]
    gross = (i["quantity"] * i["unit_price"]).groupby(i["order_id"]).sum()
    completed = o[o["status"].isna() | (o["status"] == "completed")].set_index("order_id")
    expected = gross.reindex(completed.index) - completed["discount_amount"].fillna(0.0)
    assert (expected - completed["order_total"]).abs().max() < 0.005
    assert (o["order_total"] >= 0).all()


def test_personas(data: dict[str, pd.DataFrame]) -> None:
    """Every registered customer has one persona row with shares close to the targets."""
    c, p = data["customers"], data["personas"]
    registered = p[p["customer_id"] <= N]
    assert len(registered) == N and set(registered["customer_id"]) == set(c["customer_id"])
    shares = registered["persona"].value_counts(normalize=True)
    for persona, target in SHARES.items():
        assert abs(shares[persona] - target) < 0.01, persona


def test_guests(data: dict[str, pd.DataFrame]) -> None:
    """Guest buyers have 1-3 orders, ids above N, no customer row and their own persona."""
    c, o, p = data["customers"], data["orders"], data["personas"]
    guests = p[p["persona"] == "guest_buyer"]
    assert len(guests) > 0 and (guests["customer_id"] > N).all()
    assert not guests["customer_id"].isin(c["customer_id"]).any()
    assert set(p.loc[p["customer_id"] > N, "persona"]) == {"guest_buyer"}
    per_guest = o[o["customer_id"] > N].groupby("customer_id").size()
    assert per_guest.between(1, 3).all() and set(per_guest.index) == set(guests["customer_id"])
    assert 0.005 < (o["customer_id"] > N).mean() < 0.02


def test_orders_per_customer(data: dict[str, pd.DataFrame]) -> None:
    """Orders total roughly 3-4 per customer."""
    assert 3.0 <= len(data["orders"]) / N <= 4.5


def test_events_volume_and_nulls(data: dict[str, pd.DataFrame]) -> None:
    """Event count is within 15% of target; some anonymous events and null session ids."""
    e = data["events"]
    assert abs(len(e) / (12.0 * N) - 1) < 0.15
    assert 0.002 < e["customer_id"].isna().mean() < 0.01
    assert e.loc[e["customer_id"].isna(), "session_id"].notna().all()
    null_share = e["session_id"].isna().groupby(e["customer_id"]).agg(["all", "any"])
    assert (null_share["all"] == null_share["any"]).all()  # all or none per customer
    assert 0.05 < null_share["all"].mean() < 0.15


@pytest.mark.parametrize("epc", [8.0, 50.0])
def test_events_volume_scales(epc: float) -> None:
    """The event total follows events_per_customer (below ~6 the one-visit minimum of browsers
    and new customers dominates)."""
    events = demo.generate(customers=1000, seed=7, events_per_customer=epc)["events"]
    assert abs(len(events) / (epc * 1000) - 1) < 0.15


def test_late_rows(data: dict[str, pd.DataFrame]) -> None:
    """A few orders and events arrive after the as-of day; all other rows precede it."""
    o, e, c = data["orders"], data["events"], data["customers"]
    for ts in (o["ordered_at"], e["occurred_at"]):
        late = ts >= AS_OF
        assert 0 < late.mean() < 0.006
        assert (ts[late] >= AS_OF + pd.Timedelta(days=1)).all()
    assert (c["signup_at"] < AS_OF).all()


def test_as_of_moves_dates() -> None:
    """All dates derive from as_of."""
    d = demo.generate(customers=300, as_of="2024-02-29")
    cutoff = pd.Timestamp("2024-02-29")
    on_time = d["orders"]["ordered_at"][d["orders"]["ordered_at"] < cutoff]
    assert on_time.max() > cutoff - pd.Timedelta(days=31)
    with pytest.raises(ValueError):
        demo.generate(customers=10, as_of="2024-2-29")


def test_signup_before_activity(data: dict[str, pd.DataFrame]) -> None:
    """Registered customers sign up before their first order and first event."""
    signup = data["customers"].set_index("customer_id")["signup_at"]
    first_order = data["orders"].groupby("customer_id")["ordered_at"].min()
    first_event = data["events"].groupby("customer_id")["occurred_at"].min()
    for first in (first_order, first_event):
        joined = pd.concat([signup, first.rename("first")], axis=1, join="inner")
        assert (joined["signup_at"] < joined["first"]).all()


def test_sessions(data: dict[str, pd.DataFrame]) -> None:
    """A 30-minute inactivity gap recovers the session ids; purchases close order sessions."""
    e = data["events"].dropna(subset=["customer_id"])
    e = e.sort_values(["customer_id", "occurred_at", "event_id"])
    new_customer = e["customer_id"].ne(e["customer_id"].shift())
    gap = e["occurred_at"].diff() > pd.Timedelta(minutes=30)
    inactivity = new_customer | gap
    by_id = new_customer | e["session_id"].ne(e["session_id"].shift())
    both = e["session_id"].notna() & e["session_id"].shift().notna()
    assert (inactivity[both] == by_id[both]).all()
    session = inactivity.cumsum()
    sizes = session.value_counts()
    assert sizes.max() <= 20
    last = e.groupby(session)["event_type"].last()
    purchases = e.loc[e["event_type"] == "purchase"]
    assert (last == "purchase").sum() == len(purchases)


def test_personas_are_separable(data: dict[str, pd.DataFrame]) -> None:
    """Planted personas differ on the features a segmentation would use."""
    o, e, p = data["orders"], data["events"], data["personas"]
    o = o[o["ordered_at"] < AS_OF].merge(p, on="customer_id")
    persona = p.set_index("customer_id")["persona"]
    per = o.groupby("customer_id").agg(
        n=("order_id", "size"),
        aov=("order_total", "mean"),
        disc=("discount_amount", lambda s: s.notna().mean()),
        recency=("ordered_at", lambda s: (AS_OF - s.max()).days),
    )
    per = per.join(persona)
    med = per.groupby("persona", observed=True).median()
    assert med.loc["loyal_high_spender", "n"] >= 8 and med.loc["loyal_high_spender", "aov"] > 120
    assert med.loc["loyal_high_spender", "recency"] <= 30
    assert med.loc["discount_hunter", "disc"] > 0.6 and med.loc["discount_hunter", "aov"] < 60
    assert med.loc["lapsed_big_spender", "recency"] >= 300
    assert med.loc["lapsed_big_spender", "aov"] > 150
    assert (per.loc[per["persona"] == "one_time_buyer", "n"] == 1).all()
    assert not per["persona"].eq("registered_prospect").any()
    assert per.loc[per["persona"] == "browser", "n"].max() <= 1
    views = e[e["event_type"] == "product_view"].groupby("customer_id").size()
    views = views.reindex(persona.index, fill_value=0).groupby(persona, observed=True).mean()
    assert views["browser"] > 3 * views["registered_prospect"]
    assert views["browser"] > views["one_time_buyer"]
    customers = data["customers"].merge(p, on="customer_id")
    age = (AS_OF.year - customers["birth_year"]).groupby(customers["persona"], observed=True)
    assert age.median()["browser"] < 31 < age.median()["loyal_high_spender"]
    signup_age = (AS_OF - customers["signup_at"]).dt.days
    assert signup_age[customers["persona"] == "new_customer"].max() <= 30


def _lines(data: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Order lines with their category, buyer, persona and price relative to the category."""
    lines = (
        data["order_items"]
        .merge(data["products"], on="product_id")
        .merge(data["orders"][["order_id", "customer_id"]], on="order_id")
        .merge(data["personas"], on="customer_id")
    )
    median = lines.groupby("category", observed=True)["unit_price"].transform("median")
    return lines.assign(price_index=lines["unit_price"] / median)


def test_planted_interests(data: dict[str, pd.DataFrame]) -> None:
    """Each persona's favourite categories are its top categories by lift; prices follow it."""
    lines = _lines(data)
    buyers = lines.groupby("persona", observed=True)["customer_id"].nunique()
    per_category = lines.groupby(["persona", "category"], observed=True)["customer_id"].nunique()
    share = per_category.unstack(fill_value=0).div(buyers, axis=0)
    overall = lines.groupby("category", observed=True)["customer_id"].nunique()
    lift = share / (overall / lines["customer_id"].nunique())
    for persona in demo.PERSONAS:
        favourites = favourite_categories(persona)
        if favourites:
            top = lift.loc[persona].sort_values(ascending=False).index[: len(favourites)]
            assert set(top) == set(favourites), (persona, lift.loc[persona].round(2).to_dict())
    index = lines.groupby("persona", observed=True)["price_index"].mean()
    neutral = ["browser", "one_time_buyer", "new_customer"]
    assert min(index["loyal_high_spender"], index["lapsed_big_spender"]) > index[neutral].max()
    assert index["discount_hunter"] < index[neutral].min()


def test_interests_leave_the_other_draws_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    """Interests change only which products the lines hold: every other table stays as without."""
    planted = demo.generate(customers=300, seed=7)
    monkeypatch.setattr(interests, "INTEREST_SHARE", 0.0)
    plain = demo.generate(customers=300, seed=7)
    for name in ("customers", "orders", "events", "products", "personas"):
        pd.testing.assert_frame_equal(planted[name], plain[name])
    assert not planted["order_items"]["product_id"].equals(plain["order_items"]["product_id"])


def _assert_same(original: pd.DataFrame, loaded: pd.DataFrame) -> None:
    """Compare a table with its re-read copy value by value."""
    assert list(loaded.columns) == list(original.columns)
    for col in original.columns:
        a, b = original[col], loaded[col]
        if pd.api.types.is_datetime64_any_dtype(a):
            assert (pd.to_datetime(b).to_numpy() == a.to_numpy()).all(), col
        elif pd.api.types.is_numeric_dtype(a) and not isinstance(a.dtype, pd.CategoricalDtype):
            np.testing.assert_allclose(
                a.astype("float64").to_numpy(), b.astype("float64").to_numpy(), err_msg=col
            )
        else:
            assert _text(a).equals(_text(b)), col


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_write_round_trip(data: dict[str, pd.DataFrame], tmp_path: Path, fmt: str) -> None:
    """Written files read back to the same values; the truth file sits in truth/."""
    paths = demo.write(data, tmp_path, fmt=fmt)
    inputs = sorted(p.name for p in tmp_path.glob(f"*.{fmt}"))
    assert inputs == sorted(f"{n}.{fmt}" for n in demo.INPUT_TABLES)
    assert paths["personas"] == tmp_path / "truth" / f"personas.{fmt}"
    for name, df in data.items():
        if fmt == "parquet":
            loaded = pd.read_parquet(paths[name])
            pd.testing.assert_frame_equal(loaded, df, check_categorical=False)
        else:
            loaded = pd.read_csv(paths[name], keep_default_na=False, na_values=[""])
            _assert_same(df, loaded)
    if fmt == "csv":
        header, first = paths["orders"].read_text().splitlines()[:2]
        assert header.replace('"', "") == ",".join(COLUMNS["orders"])
        assert "T" in first.split(",")[2]  # ISO timestamp


def test_cli_main(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """main() writes every table and prints one summary line with counts and seconds."""
    out = tmp_path / "out"
    argv = ["--customers", "500", "--out", str(out), "--seed", "3", "--events-per-customer", "8"]
    assert demo.main(argv) == 0
    line = capsys.readouterr().out.strip()
    assert "\n" not in line and "customers=500" in line and "seconds=" in line
    for name in demo.INPUT_TABLES:
        assert (out / f"{name}.parquet").is_file()
    assert (out / "truth" / "personas.parquet").is_file()
    assert demo.main([*argv, "--format", "csv", "--as-of", "2025-01-31"]) == 0
    assert (out / "events.csv").is_file() and (out / "truth" / "personas.csv").is_file()


def test_python_dash_m_runs_the_cli(tmp_path: Path) -> None:
    """`python -m shopseg.demo` is the package's own command line."""
    out = tmp_path / "out"
    argv = ["--customers", "50", "--events-per-customer", "2", "--out", str(out)]
    proc = subprocess.run(
        [sys.executable, "-m", "shopseg.demo", *argv], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    assert "customers=50" in proc.stdout and (out / demo.MARKER).is_file()


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_cli_streaming_matches_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fmt: str
) -> None:
    """The streaming CLI writes the same bytes as generate() + write(), across blocks."""
    monkeypatch.setattr(demo.events, "_CHUNK", 300)
    monkeypatch.setattr(demo.files, "_ROW_GROUP", 1000)
    tables = demo.generate(customers=1000, seed=5, events_per_customer=6)
    demo.write(tables, tmp_path / "a", fmt=fmt)
    demo.main(
        ["--customers", "1000", "--seed", "5", "--events-per-customer", "6"]
        + ["--out", str(tmp_path / "b"), "--format", fmt]
    )
    files = sorted((tmp_path / "a").rglob(f"*.{fmt}"))
    assert len(files) == 6
    for path in files:
        twin = tmp_path / "b" / path.relative_to(tmp_path / "a")
        assert path.read_bytes() == twin.read_bytes(), path.name


def test_write_rejects_bad_input(data: dict[str, pd.DataFrame], tmp_path: Path) -> None:
    """Unknown formats and table names are refused."""
    with pytest.raises(ValueError):
        demo.write(data, tmp_path, fmt="json")
    with pytest.raises(ValueError):
        demo.write({"nope": data["products"]}, tmp_path)


# --- the CLI writes only into folders it created ------------------------------------------

SMALL = ["--customers", "200", "--events-per-customer", "2"]


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_cli_refuses_a_folder_it_did_not_create(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A user's tables are never deleted or overwritten, with or without --reuse."""
    shop = tmp_path / "demo"
    (shop / "truth").mkdir(parents=True)
    demo.write({"orders": demo.generate(customers=50)["orders"].head(7)}, shop)
    (shop / "notes.txt").write_text("my shop")
    before = _files(shop)
    for extra in ([], ["--reuse"]):
        assert demo.main([*SMALL, "--out", str(shop), *extra]) == 2
        captured = capsys.readouterr()
        assert captured.out == ""
        assert captured.err == (
            f"shopseg: demo: refusing to overwrite {shop}: it holds files the demo did not "
            "write (notes.txt, orders.parquet, truth/) and no .shopseg-demo marker; set "
            "DEMO_DIR (or --out) to another folder, or remove this one yourself\n"
        )
        assert _files(shop) == before
    assert sorted(p.name for p in shop.iterdir()) == ["notes.txt", "orders.parquet", "truth"]
    a_file = tmp_path / "orders.parquet"
    a_file.write_bytes(b"PAR1")
    assert demo.main([*SMALL, "--out", str(a_file)]) == 2
    assert "is a file, not a folder" in capsys.readouterr().err
    assert a_file.read_bytes() == b"PAR1"


def test_cli_regenerates_a_folder_it_marked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """New, empty and marked folders are written; --reuse keeps data of the same settings."""
    shop = tmp_path / "demo"
    shop.mkdir()  # empty: allowed
    assert demo.main([*SMALL, "--out", str(shop)]) == 0
    assert (shop / demo.MARKER).is_file()
    first = _files(shop)
    assert len(pd.read_parquet(shop / "customers.parquet")) == 200
    capsys.readouterr()

    assert demo.main([*SMALL, "--out", str(shop), "--reuse"]) == 0
    assert capsys.readouterr().out == f"demo data already in {shop} (200 customers)\n"
    assert _files(shop) == first

    (shop / "mine.txt").write_text("kept")  # not the demo's: left alone
    bigger = ["--customers", "300", "--events-per-customer", "2", "--format", "csv"]
    assert demo.main([*bigger, "--out", str(shop), "--reuse"]) == 0
    assert len(pd.read_csv(shop / "customers.csv")) == 300
    assert not list(shop.rglob("*.parquet"))  # the old format is gone, not read beside the new
    assert (shop / "mine.txt").read_text() == "kept"


def test_cli_regenerates_interrupted_and_legacy_demo_folders(tmp_path: Path) -> None:
    """An interrupted run (marker incomplete) and an old `make demo` folder are regenerated."""
    shop = tmp_path / "demo"
    assert demo.main([*SMALL, "--out", str(shop)]) == 0
    marker = shop / demo.MARKER
    marker.write_text(marker.read_text().replace('"complete": true', '"complete": false'))
    (shop / "events.parquet").unlink()  # killed before the events were written
    assert demo.main([*SMALL, "--out", str(shop), "--reuse"]) == 0
    assert (shop / "events.parquet").is_file() and '"complete": true' in marker.read_text()

    legacy = tmp_path / "legacy"
    demo.write({"orders": demo.generate(customers=50)["orders"]}, legacy)
    (legacy / ".customers-50").touch()  # what `make demo` wrote before the marker existed
    assert demo.main([*SMALL, "--out", str(legacy), "--reuse"]) == 0
    assert (legacy / demo.MARKER).is_file() and not (legacy / ".customers-50").exists()
    assert len(pd.read_parquet(legacy / "customers.parquet")) == 200
