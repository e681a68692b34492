"""customer_predictions in the shared demo build (no build of its own)."""

from __future__ import annotations

import pytest
from conftest import DbtResult

pytestmark = pytest.mark.e2e


def test_demo_predictions_cover_every_segmented_customer(demo_build: DbtResult) -> None:
    rows = demo_build.query(
        "select s.customer_id, p.prediction_status, p.p_alive, p.p_no_order, p.expected_orders "
        "from customer_segments as s left join customer_predictions as p using (customer_id)"
    )
    assert rows["prediction_status"].notna().all()  # everyone segmented has a prediction row
    ok = rows[rows["prediction_status"] == "ok"]
    assert len(ok) > len(rows) / 2  # the demo has enough customers and history to fit
    assert ok["p_alive"].between(0, 1).all() and ok["p_no_order"].between(0, 1).all()
    assert rows.loc[rows["prediction_status"] != "ok", "expected_orders"].isna().all()
