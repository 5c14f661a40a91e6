"""The copilot's operations over what this API serves: the forecaster champion, the clean history, the tariff.

The REST routes (api.routers.forecast, api.routers.copilot) and the MCP tools (api.mcp) call the
same methods, so both give the same numbers. Each method is synchronous CPU work (callers run it
on the model workers) and returns a JSON-able dict carrying the tariff and the lineage: the models
used, the version of the readings read and the tariff's version. The computations themselves are
`energy_assets.copilot.service`'s; bad input raises its `CopilotInputError` naming the field.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from api import history as clean_history
from api.copilot_schemas import OptimizeRequest, PowerFactorRequest, ShiftRequest
from api.history import CleanHistory
from api.registry import ChampionRegistry, LoadedModel
from energy_assets import schema
from energy_assets.config_vars import env
from energy_assets.copilot import explain, service
from energy_assets.copilot.errors import CopilotInputError, TariffError
from energy_assets.copilot.tariff import TARIFF_ENV, Tariff, load_tariff, tariff_path
from energy_assets.settings import FORECASTER_MODEL_NAME

QUANTILE_COLUMNS = ("p025", "p10", "p50", "p90", "p975")
# Day forecasts kept per (model version, readings version, day): the same day is asked for again and
# again (the dashboard's tomorrow, the optimizer's what-ifs), and the answer cannot change until the
# champion or the readings do, which changes the key.
FORECAST_CACHE_DAYS = 32


class CopilotUnavailable(RuntimeError):
    """The copilot cannot answer with this server's configuration (its tariff file); the message says why."""


@dataclass
class DayForecast:
    """One day's forecast as a frame (timestamp, usage_kwh, load_type and, with bands, p025..p975).

    Shared through the forecast cache: callers read `frame`, never modify it.
    """

    frame: pd.DataFrame
    served: LoadedModel
    load_type_source: str
    history_days: int
    history_missing_intervals: int
    bands: bool
    readings_version: str
    # The day priced per tariff version (service.day_cost), filled on first use: a cached day is
    # priced once per tariff, not on every request.
    costs: dict[str, dict] = field(default_factory=dict)

    def intervals(self) -> list[dict]:
        """The 96 intervals as JSON rows: timestamp, load_type, usage_kwh and the quantiles."""
        columns = ["usage_kwh", *(QUANTILE_COLUMNS if self.bands else ())]
        values = self.frame[columns].to_numpy(dtype=float).tolist()
        stamps = pd.DatetimeIndex(self.frame[schema.TIMESTAMP])
        return [
            {"timestamp": ts.isoformat(), "load_type": load, **dict(zip(columns, row, strict=True))}
            for ts, load, row in zip(stamps, self.frame["load_type"].tolist(), values, strict=True)
        ]

    def cost(self, tariff: Tariff) -> dict:
        """The day's energy charge, peak and CO2 priced from the point forecast (a copy: callers may pop)."""
        if tariff.label not in self.costs:
            self.costs[tariff.label] = service.day_cost(self.frame, column="usage_kwh", tariff=tariff)
        return dict(self.costs[tariff.label])


@dataclass
class Copilot:
    champions: ChampionRegistry
    history: CleanHistory
    tariff_path: str | None = None  # None: env ENERGY_TARIFF, else the bundled default
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)
    _tariff: Tariff | None = field(default=None, init=False)
    _priced: tuple[str, str, service.PricedHistory] | None = field(default=None, init=False)
    _forecasts: OrderedDict[tuple, DayForecast] = field(default_factory=OrderedDict, init=False)

    # --- what every answer stands on ------------------------------------------------------

    def tariff(self) -> Tariff:
        """The server's tariff, loaded once; a file that cannot be used makes the copilot unavailable (503)."""
        if self._tariff is None:
            try:
                self._tariff = load_tariff(self.tariff_path)
            except TariffError as error:
                source = (
                    "" if self.tariff_path else f" (from {TARIFF_ENV})" if env(TARIFF_ENV) else " (the bundled default)"
                )
                file = tariff_path(self.tariff_path)
                raise CopilotUnavailable(f"the tariff file {file}{source} cannot be used: {error}") from None
        return self._tariff

    def priced_history(self) -> tuple[service.PricedHistory, str]:
        """The clean history priced with the tariff, once per version of the readings."""
        tariff = self.tariff()
        frame, version = self.history.snapshot()
        with self._lock:
            if self._priced is None or self._priced[:2] != (version, tariff.label):
                if frame.empty:
                    raise CopilotUnavailable(
                        f"there are no clean readings in {self.history.directory}: run the pipeline first"
                    )
                self._priced = (version, tariff.label, service.prepare_history(frame.drop(columns="_day"), tariff))
            return self._priced[2], version

    @staticmethod
    def _lineage(models: list[LoadedModel], readings_version: str, tariff: Tariff) -> dict:
        return {
            "models": [m.lineage() for m in models],
            "readings_version": readings_version,
            "tariff_version": tariff.label,
        }

    # --- forecasts ------------------------------------------------------------------------

    def day_forecast(self, day: dt.date) -> DayForecast:
        """The forecaster champion's 96 intervals of `day`, with its quantiles when it has bands.

        Raises ModelNotServed (503) without a champion, ForecastUnavailable when the history lacks days.
        """
        served = self.champions.require(FORECASTER_MODEL_NAME)
        history, version = self.history.snapshot()
        key = (served.name, served.version, served.run_id, version, day)
        with self._lock:
            if (cached := self._forecasts.get(key)) is not None:
                self._forecasts.move_to_end(key)
                return cached
        prepared = clean_history.forecast_input(history, day)
        # The features need the history rows (lags); the models only the day's own 96 rows.
        features = served.features.transform(prepared.frame).iloc[-schema.INTERVALS_PER_DAY :]
        rows = prepared.frame.iloc[-schema.INTERVALS_PER_DAY :]
        bands = hasattr(served.regressor, "predict_with_quantiles")
        if bands:  # one pass: the bands are built around the point forecast
            point, quantiles = served.regressor.predict_with_quantiles(features)
        else:
            point = served.regressor.predict(features)
        frame = pd.DataFrame(
            {
                schema.TIMESTAMP: rows[schema.TIMESTAMP].to_numpy(),
                "usage_kwh": point,
                "load_type": rows["load_type"].to_numpy(),
            }
        )
        if bands:
            for column in QUANTILE_COLUMNS:
                frame[column] = np.asarray(quantiles[column], dtype=float)
        forecast = DayForecast(
            frame,
            served,
            prepared.load_type_source,
            prepared.history_days,
            prepared.history_missing_intervals,
            bands,
            version,
        )
        with self._lock:
            self._forecasts[key] = forecast
            while len(self._forecasts) > FORECAST_CACHE_DAYS:
                self._forecasts.popitem(last=False)
        return forecast

    def forecast(self, day: dt.date, cap_kw: float | None = None) -> tuple[dict, LoadedModel]:
        """The day's intervals (with bands), its cost and peak priced from the point forecast, and with
        `cap_kw` the probability that each interval's demand exceeds the cap."""
        forecast = self.day_forecast(day)
        body: dict[str, Any] = {
            "day": day.isoformat(),
            "load_type_source": forecast.load_type_source,
            "history_days": forecast.history_days,
            "history_missing_intervals": forecast.history_missing_intervals,
            "intervals": forecast.intervals(),
            "bands": forecast.bands,
            "cost": None,
            "peak_risk": None,
            "tariff": None,
            "lineage": {
                **forecast.served.lineage(),
                "readings_version": forecast.readings_version,
                "tariff_version": None,
            },
        }
        try:
            tariff = self.tariff()
        except CopilotUnavailable:
            if cap_kw is not None:
                raise
            return body, forecast.served  # the forecast stands without a tariff; only its pricing is missing
        cost = forecast.cost(tariff)
        body["tariff"] = cost.pop("tariff")
        body["cost"] = cost
        body["lineage"]["tariff_version"] = tariff.label
        if cap_kw is not None:
            if not forecast.bands:
                raise CopilotInputError(
                    "cap_kw", f"the served forecaster v{forecast.served.version} has no bands to judge a cap with"
                )
            risk = service.peak_risk(forecast.frame, cap_kw, tariff=tariff)
            risk.pop("tariff")
            body["peak_risk"] = risk
        return body, forecast.served

    # --- bills and what-ifs on past readings -----------------------------------------------

    def _from_readings(self, call, **arguments) -> dict:
        """A domain call on the priced clean history, its answer with the lineage."""
        priced, version = self.priced_history()
        return {**call(priced, tariff=priced.tariff, **arguments), "lineage": self._lineage([], version, priced.tariff)}

    def bill(self, month: str) -> dict:
        return self._from_readings(service.bill, month=month)

    def whatif_shift(self, request: ShiftRequest) -> dict:
        return self._from_readings(service.whatif_shift, **request.model_dump(mode="json"))

    def whatif_power_factor(self, request: PowerFactorRequest) -> dict:
        return self._from_readings(service.whatif_power_factor, **request.model_dump(mode="json"))

    # --- scheduling on a forecast day ------------------------------------------------------

    def optimize(self, request: OptimizeRequest) -> dict:
        tariff = self.tariff()
        forecast = self.day_forecast(request.day)
        if request.baseline != "usage_kwh" and not forecast.bands:
            raise CopilotInputError(
                "baseline", f"the served forecaster v{forecast.served.version} has no bands; use usage_kwh"
            )
        answer = service.optimize_block(
            forecast.frame,
            **request.model_dump(exclude={"day", "baseline"}),
            baseline_column=request.baseline,
            tariff=tariff,
        )
        return {
            "day": request.day.isoformat(),
            "baseline": request.baseline,
            **answer,
            "lineage": self._lineage([forecast.served], forecast.readings_version, tariff),
        }

    # --- explaining a past day -------------------------------------------------------------

    def explain(self, day: dt.date) -> dict:
        """Why `day`'s peak was what it was: the peak, forecast and band, the typical day, SHAP contributions,
        tariff period and power factor, as numbers and one sentence each (`energy_assets.copilot.explain`)."""
        if not clean_history.FIRST_DAY <= day <= clean_history.LAST_DAY:
            raise CopilotInputError(
                "day", f"{day} is outside the supported range {clean_history.FIRST_DAY} to {clean_history.LAST_DAY}"
            )
        tariff = self.tariff()
        served = self.champions.require(FORECASTER_MODEL_NAME)
        frame, version = self.history.snapshot()
        try:
            answer = explain.explain_day(frame.drop(columns="_day"), served.pipeline, day)
        except explain.ExplainError as error:
            raise CopilotInputError(error.field, error.reason) from None
        return {**answer, "tariff": tariff.lineage(), "lineage": self._lineage([served], version, tariff)}
