"""Per-customer predictions: BG/NBD for orders and alive, Gamma-Gamma for spend, backtests.

Gradient boosting on point-in-time features (`shopseg.predict.boosting`) is the measured
alternative; BG/NBD predicted better on held-out time on most shops (see DECISIONLOG).
"""

from shopseg.predict.backtest import (
    BACKTEST_COLUMNS,
    Backtest,
    backtest,
    backtest_calibration,
    backtest_customers,
    backtest_figures,
    calibration_deciles,
    order_summary,
)
from shopseg.predict.bgnbd import (
    BgNbd,
    expected_orders,
    expected_orders_new,
    fit_bgnbd,
    median_time_to_next_order,
    p_alive,
    p_no_order,
)
from shopseg.predict.config import PredictConfig
from shopseg.predict.customers import (
    OUTPUT_COLUMNS,
    PredictionFit,
    fit_predictions,
    predict_customers,
    score_predictions,
    summarise,
)
from shopseg.predict.gamma_gamma import GammaGamma, expected_order_value, fit_gamma_gamma
from shopseg.predict.simulate import simulate_bgnbd

__all__ = [
    "BACKTEST_COLUMNS",
    "OUTPUT_COLUMNS",
    "Backtest",
    "BgNbd",
    "GammaGamma",
    "PredictConfig",
    "PredictionFit",
    "backtest",
    "backtest_calibration",
    "backtest_customers",
    "backtest_figures",
    "calibration_deciles",
    "expected_order_value",
    "expected_orders",
    "expected_orders_new",
    "fit_bgnbd",
    "fit_gamma_gamma",
    "fit_predictions",
    "median_time_to_next_order",
    "order_summary",
    "p_alive",
    "p_no_order",
    "predict_customers",
    "score_predictions",
    "simulate_bgnbd",
    "summarise",
]
