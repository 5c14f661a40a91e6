"""Explain a past day with the session's champion forecaster and the bundled readings."""

from __future__ import annotations

import json

import mlflow
import numpy as np
import pandas as pd
import pytest

from energy_assets import schema
from energy_assets.copilot.explain import ExplainError, explain_day
from energy_assets.settings import FORECASTER_MODEL_NAME


@pytest.fixture(scope="module")
def readings():
    from energy_assets.ingest import reader
    from energy_assets.ingest.validation import validate
    from tests.conftest import BUNDLED_CSV

    frame, _, _ = reader.read_raw(BUNDLED_CSV)
    return validate(frame).clean


@pytest.fixture(scope="module")
def forecaster(pipeline_result):
    version = pipeline_result.champions[FORECASTER_MODEL_NAME]["version"]
    return mlflow.sklearn.load_model(f"models:/{FORECASTER_MODEL_NAME}/{version}")


def test_explains_a_real_friday_with_numbers_the_code_computed(readings, forecaster):
    answer = explain_day(readings, forecaster, "2018-11-16")
    json.dumps(answer)  # JSON-able as it is
    day = readings[(schema.interval_day(readings["timestamp"]) == pd.Timestamp("2018-11-16")).to_numpy()]
    assert answer["day_kind"] == "weekday"

    peak = answer["peak"]
    assert peak["usage_kwh"] == day["usage_kwh"].max()
    assert peak["demand_kw"] == pytest.approx(4 * day["usage_kwh"].max())
    first = day.loc[day["usage_kwh"].idxmax()]
    assert peak["intervals"][0]["timestamp"] == pd.Timestamp(first["timestamp"]).isoformat()
    assert answer["tariff_period"]["load_type"] == first["load_type"]
    assert answer["power_factor"]["lagging_pct"] == first["lagging_power_factor"]

    # The forecast at the peak is the model's own, and SHAP's contributions add up to it.
    days = schema.interval_day(readings["timestamp"])
    frame = readings[((days >= pd.Timestamp("2018-09-21")) & (days <= pd.Timestamp("2018-11-16"))).to_numpy()]
    predicted = pd.Series(
        forecaster.predict(frame[list(schema.COLUMNS)]), index=pd.to_datetime(frame["timestamp"]).to_numpy()
    )
    expected = predicted[pd.Timestamp(first["timestamp"])]
    assert answer["forecast"]["peak_interval_kwh"] == pytest.approx(expected, abs=1e-9)
    contributions = answer["contributions"]
    assert contributions["forecast_kwh"] == pytest.approx(expected, abs=1e-6)
    magnitudes = [abs(c["contribution_kwh"]) for c in contributions["features"]]
    assert len(magnitudes) == 5 and magnitudes == sorted(magnitudes, reverse=True)
    band = answer["forecast"]["peak_interval_band"]
    assert band["p025"] <= band["p10"] <= band["p50"] <= band["p90"] <= band["p975"]
    assert (
        band["p10"] <= answer["forecast"]["peak_interval_kwh"] <= band["p90"]
    )  # the band is built around the forecast

    # The typical day is the mean of the last four earlier working weekdays, slot by slot.
    typical = answer["typical"]
    assert len(typical["days"]) == 4 and all(d < "2018-11-16" for d in typical["days"])
    usage = readings.set_index("timestamp")["usage_kwh"]
    slot_offset = pd.Timestamp(first["timestamp"]) - pd.Timestamp("2018-11-16")
    assert typical["peak_interval_kwh"] == pytest.approx(
        np.mean([usage[pd.Timestamp(d) + slot_offset] for d in typical["days"]])
    )

    # Each sentence carries the numbers it is about.
    assert f"{peak['usage_kwh']:.2f} kWh" in peak["sentence"]
    assert f"{answer['forecast']['peak_interval_kwh']:.2f} kWh" in answer["forecast"]["sentence"]
    assert f"{answer['power_factor']['lagging_pct']:.1f} %" in answer["power_factor"]["sentence"]
    assert contributions["features"][0]["feature"] in contributions["sentence"]
    assert len(answer["sentences"]) == 6


@pytest.mark.parametrize(
    ("day", "message"),
    [
        ("2018-13-01", "is not a date"),
        ("2019-06-01", "has no readings"),
        ("2018-01-10", "days of readings before it"),
    ],
)
def test_a_day_that_cannot_be_explained_names_the_field(readings, forecaster, day, message):
    with pytest.raises(ExplainError, match=message) as error:
        explain_day(readings, forecaster, day)
    assert error.value.field == "day"
