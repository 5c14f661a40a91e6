"""Graded continuity: gaps are listed; a month or a forecast window is refused only past the limits."""

from __future__ import annotations

import pandas as pd
import pytest

from energy_assets import schema
from energy_assets.ingest import continuity

from .conftest import BUNDLED_CSV

JANUARY = pd.Series(pd.date_range("2018-01-01 00:15", "2018-02-01 00:00", freq="15min"))  # 2,976 intervals
LIMIT_MISSING = int(continuity.MAX_MISSING_SHARE * len(JANUARY))  # 148
LIMIT_GAP = int(continuity.MAX_GAP / schema.INTERVAL)  # 96


def _without(stamps: pd.Series, *runs: tuple[int, int]) -> pd.Series:
    """`stamps` with each (start, length) run of intervals left out."""
    drop = set()
    for start, length in runs:
        drop.update(range(start, start + length))
    return stamps[~stamps.index.isin(drop)].reset_index(drop=True)


def test_every_gap_is_listed_with_its_length():
    problems, gaps, months = continuity.continuity_problems(_without(JANUARY, (100, 1), (500, 8)))
    assert problems == []
    assert [(g.last_before, g.first_after, g.missing) for g in gaps] == [
        (JANUARY[99], JANUARY[101], 1),
        (JANUARY[499], JANUARY[508], 8),
    ]
    assert months.to_dict("records") == [
        {"month": "2018-01", "expected": 2976, "found": 2967, "missing": 9, "missing_share": 9 / 2976}
    ]


@pytest.mark.parametrize(("missing", "fails"), [(LIMIT_MISSING, False), (LIMIT_MISSING + 1, True)])
def test_a_month_fails_only_past_the_missing_share(missing, fails):
    half = missing // 2  # two gaps, each shorter than the gap limit
    problems, _, _ = continuity.continuity_problems(_without(JANUARY, (300, half), (1500, missing - half)))
    assert bool(problems) is fails
    if fails:
        assert problems == [f"2018-01: {missing} of 2976 intervals missing ({missing / 2976:.2%} > 5.00%)"]


@pytest.mark.parametrize(("length", "fails"), [(LIMIT_GAP, False), (LIMIT_GAP + 1, True)])
def test_a_gap_fails_only_past_the_longest_gap(length, fails):
    problems, _, _ = continuity.continuity_problems(_without(JANUARY, (1000, length)))
    assert bool(problems) is fails
    if fails:
        assert "(97 intervals missing), 1 days 00:15:00 > 1 days 00:00:00" in problems[0]


def test_configured_limits_replace_the_defaults():
    stamps = _without(JANUARY, (1000, 20))
    assert continuity.continuity_problems(stamps, max_gap=pd.Timedelta(hours=4))[0]
    assert not continuity.continuity_problems(stamps, max_gap=pd.Timedelta(hours=5))[0]
    assert continuity.continuity_problems(stamps, max_missing_share=0.005)[0]


def test_the_blocking_check_applies_its_run_config():
    from energy_assets.defs.asset_checks import ContinuityConfig, check_continuity

    clean = pd.DataFrame({schema.TIMESTAMP: _without(JANUARY, (1000, 20))})
    assert check_continuity(ContinuityConfig(), clean).passed
    tight = check_continuity(ContinuityConfig(max_gap_hours=4), clean)
    assert not tight.passed and "20 intervals missing" in tight.description


# --- the forecast API's history window --------------------------------------------------------------

FORECAST_DAY = pd.Timestamp("2018-03-15")


@pytest.fixture(scope="module")
def history() -> pd.DataFrame:
    from energy_assets.ingest.reader import read_raw
    from energy_assets.ingest.validation import validate

    clean = validate(read_raw(BUNDLED_CSV)[0]).clean
    clean["_day"] = schema.interval_day(clean[schema.TIMESTAMP]).to_numpy()
    return clean


def _window_without(history: pd.DataFrame, *runs: tuple[int, int]) -> pd.DataFrame:
    """The history with runs (offset from the window's first interval, length) left out of the 28-day window."""
    first = FORECAST_DAY - pd.Timedelta(days=28) + schema.INTERVAL
    drop = set()
    for start, length in runs:
        drop.update(pd.date_range(first + start * schema.INTERVAL, periods=length, freq=schema.INTERVAL))
    return history[~history[schema.TIMESTAMP].isin(drop)].reset_index(drop=True)


WINDOW = 28 * 96
WINDOW_LIMIT = int(continuity.MAX_MISSING_SHARE * WINDOW)  # 134


@pytest.mark.parametrize(
    ("runs", "missing", "refused"),
    [
        ([(10, 1), (700, 8)], 9, False),
        ([(10, 67), (900, WINDOW_LIMIT - 67)], WINDOW_LIMIT, False),
        ([(10, 67), (900, WINDOW_LIMIT - 66)], WINDOW_LIMIT + 1, True),
        ([(0, LIMIT_GAP)], LIMIT_GAP, False),  # a whole day at the window's start
        ([(500, LIMIT_GAP + 1)], LIMIT_GAP + 1, True),
    ],
)
def test_a_forecast_works_over_gaps_within_the_limits_and_says_how_many(history, runs, missing, refused):
    from api.history import ForecastUnavailable, forecast_input

    gappy = _window_without(history, *runs)
    if refused:
        with pytest.raises(ForecastUnavailable, match=f"{missing} of {WINDOW} are missing"):
            forecast_input(gappy, FORECAST_DAY.date())
    else:
        prepared = forecast_input(gappy, FORECAST_DAY.date())
        assert prepared.history_missing_intervals == missing
        assert (
            len(prepared.frame)
            == len(gappy[(gappy["_day"] >= FORECAST_DAY - pd.Timedelta(days=42)) & (gappy["_day"] < FORECAST_DAY)]) + 96
        )
