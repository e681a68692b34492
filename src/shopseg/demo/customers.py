"""The ``customers`` table: sign-up and messy demographics that follow each persona."""

from __future__ import annotations

import numpy as np
import pandas as pd

from shopseg.demo._arrays import (
    categorical,
    days_to_seconds,
    pick,
    pick_rows,
    to_timestamps,
)
from shopseg.demo.personas import Accounts
from shopseg.demo.schema import CHANNELS, COUNTRIES, GENDER_VALUES, GENDERS

COUNTRY_P = (0.25, 0.14, 0.15, 0.16, 0.09, 0.09, 0.06, 0.06)  # in COUNTRIES order

# Per registered persona (index order as PERSONAS, guests have no customer row).
_AGE = np.array([[35, 60], [25, 55], [18, 30], [20, 70], [18, 65], [35, 65], [18, 75]])
_INCOME = np.array(  # median, log-sigma
    [
        [95e3, 0.30],
        [48e3, 0.25],
        [28e3, 0.35],
        [50e3, 0.40],
        [50e3, 0.40],
        [85e3, 0.30],
        [42e3, 0.45],
    ]
)
_CHANNEL_P = np.array(
    [
        [0.40, 0.20, 0.10, 0.15, 0.12, 0.03],
        [0.15, 0.15, 0.15, 0.25, 0.05, 0.25],
        [0.20, 0.15, 0.45, 0.05, 0.10, 0.05],
        [0.25, 0.35, 0.15, 0.05, 0.10, 0.10],
        [0.25, 0.30, 0.20, 0.05, 0.15, 0.05],
        [0.35, 0.25, 0.10, 0.15, 0.10, 0.05],
        [0.30, 0.20, 0.25, 0.10, 0.10, 0.05],
    ]
)


def customers_table(
    rng: np.random.Generator, accounts: Accounts, as_of_year: int, as_of_s: int
) -> pd.DataFrame:
    """Draw the attributes of every registered customer.

    Parameters
    ----------
    rng : numpy.random.Generator
        The shop's generator, right after the orders were drawn.
    accounts : Accounts
        The registered customers' personas, sign-up days and age uniforms.
    as_of_year : int
        Year of as_of, from which birth years count back.
    as_of_s : int
        As_of midnight in epoch seconds.

    Returns
    -------
    pandas.DataFrame
        One row per registered customer: ``customer_id``, ``signup_at``, ``birth_year``,
        ``gender`` (free text), ``country``, ``income`` and ``acquisition_channel``, each
        with a few nulls.
    """
    persona, u, signup = accounts.persona, accounts.uniforms, accounts.signup
    n = persona.size
    age = _AGE[persona, 0] + np.floor(u[:, 4] * (_AGE[persona, 1] - _AGE[persona, 0] + 1))
    birth = (as_of_year - age - (u[:, 5] < 0.5)).astype(np.int64)
    birth_null = rng.random(n) < 0.03
    income = _INCOME[persona, 0] * np.exp(_INCOME[persona, 1] * rng.standard_normal(n))
    income = np.round(income, -2)
    income[rng.random(n) < 0.10] = np.nan
    channel = pick_rows(rng, np.cumsum(_CHANNEL_P, axis=1)[persona])
    channel[rng.random(n) < 0.02] = -1
    country = pick(rng, COUNTRY_P, n)
    country[rng.random(n) < 0.01] = -1
    gender = pick(rng, (p for _, p in GENDER_VALUES), n)
    signup_rel = -days_to_seconds(signup)
    return pd.DataFrame(
        {
            "customer_id": np.arange(1, n + 1, dtype=np.int64),
            "signup_at": to_timestamps(signup_rel, as_of_s),
            "birth_year": pd.arrays.IntegerArray(birth.astype(np.int32), birth_null),
            "gender": categorical(gender, GENDERS),
            "country": categorical(country, COUNTRIES),
            "income": income,
            "acquisition_channel": categorical(channel, CHANNELS),
        }
    )
