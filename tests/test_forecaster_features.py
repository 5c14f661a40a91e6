"""The day-ahead forecaster may only read usage of whole days before the day it forecasts."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from energy_assets import schema
from energy_assets.features.transformers import DAY_AHEAD_FEATURES, OPTIONAL_DAY_AHEAD_FEATURES, DayAheadFeatures
from energy_assets.ingest import reader
from energy_assets.ingest.validation import validate
from energy_assets.training.bands import predict_quantiles
from energy_assets.training.models import ForecasterParams, fit_day_ahead_forecaster

BUNDLED_EXPORT = Path(__file__).resolve().parents[1] / "data" / "uci" / "steel_industry_energy.csv"
FORECAST_DAY = pd.Timestamp("2018-03-05")  # a working Monday after a Sunday off
# The leakage checks run on every feature the transformer can compute, the optional ones included.
EVERY_FEATURE = DAY_AHEAD_FEATURES + OPTIONAL_DAY_AHEAD_FEATURES


def _features(frame: pd.DataFrame) -> pd.DataFrame:
    return DayAheadFeatures(features=EVERY_FEATURE).transform(frame)


@pytest.fixture(scope="module")
def readings() -> pd.DataFrame:
    """Jan-Mar 2018 of the bundled export: enough history for every feature before FORECAST_DAY."""
    frame, _, _ = reader.read_raw(BUNDLED_EXPORT)
    clean = validate(frame).clean
    day = schema.interval_day(clean[schema.TIMESTAMP])
    return clean[(day < "2018-04-01").to_numpy()].reset_index(drop=True)[list(schema.COLUMNS)]


def _day(frame: pd.DataFrame) -> np.ndarray:
    return schema.interval_day(frame[schema.TIMESTAMP]).to_numpy()


def _with_usage_blanked(frame: pd.DataFrame, from_day: pd.Timestamp) -> pd.DataFrame:
    blanked = frame.copy()
    blanked.loc[_day(frame) >= from_day, schema.TARGET] = np.nan
    return blanked


def test_features_of_a_day_ignore_its_own_and_later_usage(readings):
    on_day = _day(readings) == FORECAST_DAY
    assert on_day.sum() == schema.INTERVALS_PER_DAY
    with_actuals = _features(readings)[on_day]
    blanked = _features(_with_usage_blanked(readings, FORECAST_DAY))[on_day]
    pd.testing.assert_frame_equal(with_actuals, blanked)
    # The midnight reading closing the day (next day 00:00) belongs to the day and is blanked too.
    assert readings.loc[on_day, schema.TIMESTAMP].max() == FORECAST_DAY + pd.Timedelta(days=1)


def test_features_of_a_day_ignore_a_change_of_its_own_usage(readings):
    on_day = _day(readings) == FORECAST_DAY
    changed = readings.copy()
    changed.loc[on_day, schema.TARGET] = changed.loc[on_day, schema.TARGET] * 3 + 50
    before = _features(readings)[on_day]
    after = _features(changed)[on_day]
    pd.testing.assert_frame_equal(before, after)


def test_features_of_a_day_do_read_the_days_before(readings):
    """The leakage checks above are not vacuous: usage of the day before does move the features."""
    on_day = _day(readings) == FORECAST_DAY
    changed = readings.copy()
    day_before = _day(readings) == FORECAST_DAY - pd.Timedelta(days=1)
    changed.loc[day_before, schema.TARGET] = changed.loc[day_before, schema.TARGET] + 10
    before = _features(readings)[on_day]
    after = _features(changed)[on_day]
    assert not np.allclose(before["usage_1d_ago"], after["usage_1d_ago"])
    assert not np.allclose(before["day_mean_1d_ago"], after["day_mean_1d_ago"])
    assert not np.allclose(before["day_max_1d_ago"], after["day_max_1d_ago"])
    assert not np.allclose(
        before["same_kind_profile_at_yesterday_level"], after["same_kind_profile_at_yesterday_level"]
    )


def test_the_chosen_features_are_a_selection_of_the_same_columns(readings):
    """The default output is DAY_AHEAD_FEATURES in order, with the values the full computation gives."""
    chosen = DayAheadFeatures().fit(readings).transform(readings)
    assert tuple(chosen.columns) == DAY_AHEAD_FEATURES
    pd.testing.assert_frame_equal(chosen, _features(readings)[list(DAY_AHEAD_FEATURES)])
    with pytest.raises(ValueError, match=r"features: \['usage_0d_ago'\]"):
        DayAheadFeatures(features=("slot", "usage_0d_ago")).fit(readings)


def test_every_day_s_features_are_the_same_when_later_usage_is_unknown(readings):
    """Each day of March featurized from the full frame equals it featurized with that day onwards blanked."""
    full = _features(readings)
    for day in pd.date_range("2018-03-01", "2018-03-31"):
        on_day = _day(readings) == day
        blanked = _features(_with_usage_blanked(readings, day))[on_day]
        pd.testing.assert_frame_equal(full[on_day], blanked, obj=f"features of {day.date()}")


def test_predictions_of_a_day_ignore_its_own_and_later_usage(readings):
    params = replace(ForecasterParams(), max_iter=30, calibration_months=1)
    train = readings[_day(readings) < FORECAST_DAY]
    model = fit_day_ahead_forecaster(train, params)
    on_day = _day(readings) == FORECAST_DAY
    with_actuals = model.predict(readings)[on_day]
    blanked = model.predict(_with_usage_blanked(readings, FORECAST_DAY))[on_day]
    np.testing.assert_array_equal(with_actuals, blanked)
    # The contract's forecast frame: history plus only the day itself, usage unknown.
    history_and_day = _with_usage_blanked(readings[_day(readings) <= FORECAST_DAY], FORECAST_DAY)
    np.testing.assert_array_equal(model.predict(history_and_day)[-schema.INTERVALS_PER_DAY :], with_actuals)
    # The bands are made from the same features: they ignore the day's usage too.
    bands_with_actuals = predict_quantiles(model, readings)[np.asarray(on_day)].to_numpy()
    bands_blanked = predict_quantiles(model, history_and_day).tail(schema.INTERVALS_PER_DAY).to_numpy()
    np.testing.assert_array_equal(bands_with_actuals, bands_blanked)
