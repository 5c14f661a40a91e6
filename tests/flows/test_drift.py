"""monitor_drift and simulate_drift on the real months, with the champions of the model home."""

import numpy as np
import pandas as pd
import pytest

from energy_assets.flows.monitor_drift import monitor_drift
from energy_assets.flows.simulate_drift import simulate_drift
from energy_assets.monitoring import drift, performance, shifts
from tests.conftest import isolated_home
from tests.flows.conftest import CHEAP_FORECASTER, WORSE_ESTIMATOR


def test_psi_is_zero_for_the_same_sample_and_grows_with_a_shift():
    rng = np.random.default_rng(0)
    reference = pd.Series(rng.normal(10, 2, 5000), name="x")
    assert drift.psi(reference, reference) == pytest.approx(0.0, abs=1e-12)
    small, large = drift.psi(reference, reference + 0.2), drift.psi(reference, reference + 2)
    assert 0 < small < 0.2 < large
    categories = pd.Series(["a"] * 50 + ["b"] * 50, dtype=object, name="c")
    assert drift.psi(categories, pd.Series(["a"] * 90 + ["b"] * 10, dtype=object)) > 0.2


def test_shifts_change_only_what_they_claim():
    month = pd.DataFrame(
        {
            "co2_tco2": [0.0, 0.02, 0.04],
            "load_type": ["Light_Load"] * 2 + ["Maximum_Load"],
            "usage_kwh": [1.0, 2, 3],
            "lagging_reactive_power_kvarh": [1.0, 1, 1],
        }
    )
    assert shifts.co2_plus_50pct(month)["co2_tco2"].tolist() == pytest.approx([0.0, 0.03, 0.06])
    assert (shifts.load_type_shift(month)["load_type"] == "Medium_Load").sum() == 1
    assert shifts.unshifted(month).equals(month)


def test_simulated_shifts_are_all_detected_and_the_real_month_is_not(model_home):
    with isolated_home(model_home):
        outcome = simulate_drift(month="2018-11")
    evidence = outcome.evidence
    assert set(evidence) == set(shifts.SCENARIOS)
    assert evidence["unshifted"]["detected"] is False
    for scenario in ("co2_plus_50pct", "load_type_shift", "injected_outliers"):
        assert evidence[scenario]["detected"] is True, evidence[scenario]
    assert any("co2_tco2" in r for r in evidence["co2_plus_50pct"]["reasons"])
    assert any("load_type" in r for r in evidence["load_type_shift"]["reasons"])
    assert any("outside the reference range" in r for r in evidence["injected_outliers"]["reasons"])


def test_monitor_records_history_and_retrains_only_on_drift(model_home):
    import dagster as dg

    with isolated_home(model_home):
        calm = monitor_drift(month="2018-11", retrain_estimator=WORSE_ESTIMATOR, retrain_forecaster=CHEAP_FORECASTER)
        assert calm.drifted is False and calm.retrain is None
        # (the champions stay as the model home made them: the retrain below re-runs the same configs)
        # December 2018 really differs from the training months (reactive power, power factors)
        latest = monitor_drift(retrain_estimator=WORSE_ESTIMATOR, retrain_forecaster=CHEAP_FORECASTER)
        assert latest.month == "2018-12" and latest.drifted
        assert latest.retrain is not None and latest.retrain.decisions
        assert {c["kind"] for c in latest.summary["columns"]} == {"feature", "target", "prediction"}
        assert {e["model"] for e in latest.summary["errors"]} == {
            "energy-usage-estimator",
            "energy-day-ahead-forecaster",
        }
        instance = dg.DagsterInstance.get()
        history = instance.fetch_materializations(dg.AssetKey("drift_report"), limit=10).records
        assert {r.partition_key for r in history} >= {"2018-11", "2018-12"}


def _backtest(days: int, sigma: float, start: str = "2018-10-01", seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    timestamps = pd.date_range(pd.Timestamp(start) + pd.Timedelta(minutes=15), periods=days * 96, freq="15min")
    actual = rng.uniform(10, 50, len(timestamps))
    return pd.DataFrame(
        {"timestamp": timestamps, "actual": actual, "predicted": actual + rng.normal(0, sigma, len(timestamps))}
    )


def test_the_noise_limit_comes_from_the_models_own_daily_error():
    reference = performance.ErrorReference.from_backtest("m", _backtest(92, 1.0))
    assert len(reference.days) == 92 and reference.rmse == pytest.approx(1.0, abs=0.02)
    q99_30 = reference.month_rmse_quantile(30, 0.99)
    assert reference.rmse < q99_30 < reference.rmse * 1.1
    assert reference.month_rmse_quantile(30, 0.5) < q99_30 < reference.month_rmse_quantile(30, 0.999)
    assert reference.month_rmse_quantile(7, 0.99) > q99_30  # a shorter month varies more
    assert reference.month_rmse_quantile(30, 0.99) == q99_30  # seeded: the same verdict every time
    assert set(reference.per_month_rmse()) == {"2018-10", "2018-11", "2018-12"}
    assert len(reference.without(pd.Timestamp("2018-11-01"), pd.Timestamp("2018-11-30")).days) == 62


def test_the_performance_rule_flags_a_real_increase_and_never_one_below_the_floor():
    reference = performance.ErrorReference.from_backtest("m", _backtest(92, 1.0))
    calm, worse = _backtest(30, 1.0, "2019-01-01", seed=1), _backtest(30, 1.3, "2019-01-01", seed=2)
    judged = performance.judge(reference, calm["actual"], calm["predicted"], quantile=0.99, floor_share=0.005)
    assert judged.days == 30 and not judged.drifted
    flagged = performance.judge(reference, worse["actual"], worse["predicted"], quantile=0.99, floor_share=0.005)
    assert flagged.drifted and "above its limit" in flagged.reason
    # the same increase is below a floor of 50 % of the mean usage (~15 kWh): never drift
    assert not performance.judge(reference, worse["actual"], worse["predicted"], quantile=0.99, floor_share=0.5).drifted
    assert flagged.floor_kwh == pytest.approx(0.005 * reference.mean_usage)
    assert flagged.limit == max(flagged.noise_limit, flagged.holdout_rmse + flagged.floor_kwh)


def test_bad_thresholds_and_backtests_are_named():
    with pytest.raises(ValueError, match="rmse_degradation"):
        drift.DriftThresholds.from_mapping({"rmse_degradation": 0.15})
    with pytest.raises(ValueError, match="rmse_quantile"):
        drift.DriftThresholds(rmse_quantile=1.5)
    with pytest.raises(performance.ErrorReferenceError, match="predicted"):
        performance.ErrorReference.from_backtest("m", _backtest(3, 1.0).drop(columns="predicted"))


def test_the_usage_level_shift_moves_usage_only():
    month = pd.DataFrame(
        {"usage_kwh": [10.0, 20.0], "co2_tco2": [0.01, 0.02], "load_type": ["Light_Load", "Maximum_Load"]}
    )
    shifted = shifts.usage_level_shift(month)
    assert shifted["usage_kwh"].tolist() == pytest.approx([11.0, 22.0])
    assert shifted.drop(columns="usage_kwh").equals(month.drop(columns="usage_kwh"))
    assert shifts.SCENARIOS["usage_level_shift"].models_must_notice and not shifts.SCENARIOS["unshifted"].expected_drift
