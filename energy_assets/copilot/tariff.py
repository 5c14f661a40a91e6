"""The tariff as data: load a tariff file (YAML), validate it with errors naming the key, look up periods and rates.

The default is KEPCO's 2018 industrial (B) high-voltage A option II tariff in `data/tariffs/`.
A user points to their own file with env `ENERGY_TARIFF` (or passes a path).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from energy_assets import schema
from energy_assets.config_vars import env
from energy_assets.copilot.errors import CopilotInputError, TariffError, number
from energy_assets.settings import PROJECT_ROOT

TARIFF_DIR = PROJECT_ROOT / "data" / "tariffs"
DEFAULT_TARIFF = TARIFF_DIR / "kepco-2018-industrial-b-high-voltage-a-option-ii.yaml"
TARIFF_ENV = "ENERGY_TARIFF"
PERIODS: tuple[str, ...] = ("light", "mid", "peak")
INTERVAL_HOURS = schema.INTERVAL / pd.Timedelta(hours=1)  # 0.25: kW = kWh / INTERVAL_HOURS


@dataclass(frozen=True)
class PowerFactorWindow:
    start_hour: int
    end_hour: int  # exclusive; a window may wrap midnight (23 -> 9)
    reference_pct: float
    surcharge_floor_pct: float
    discount_ceiling_pct: float | None  # None: no discount above the reference

    def contains(self, hours: np.ndarray) -> np.ndarray:
        if self.start_hour < self.end_hour:
            return (hours >= self.start_hour) & (hours < self.end_hour)
        return (hours >= self.start_hour) | (hours < self.end_hour)

    def points(self, pf_pct: float) -> float:
        """Percentage points charged (+) or credited (-) at this average power factor."""
        if pf_pct < self.reference_pct:
            return self.reference_pct - max(pf_pct, self.surcharge_floor_pct)
        if self.discount_ceiling_pct is not None and pf_pct > self.reference_pct:
            return -(min(pf_pct, self.discount_ceiling_pct) - self.reference_pct)
        return 0.0


@dataclass(frozen=True)
class Tariff:
    id: str
    version: str
    name: str
    currency: str
    effective_from: str
    season_of_month: dict[int, str]
    period_table: np.ndarray = field(repr=False)  # [season index, hour] -> period index
    seasons: tuple[str, ...]
    rates: np.ndarray = field(repr=False)  # [season index, period index] -> currency per kWh
    demand_charge_per_kw: float
    ratchet_months: tuple[int, ...]
    lookback_months: int
    pf_share_per_point: float
    lagging: PowerFactorWindow
    leading: PowerFactorWindow
    emission_tco2_per_mwh: float
    load_type_of_period: dict[str, str]
    sources: dict
    path: str
    digest: str

    @property
    def label(self) -> str:
        """The tariff version every answer carries: id, version and a hash of the file's content."""
        return f"{self.id}@{self.version}#{self.digest[:8]}"

    def lineage(self) -> dict:
        return {
            "tariff_id": self.id,
            "tariff_version": self.label,
            "tariff_name": self.name,
            "currency": self.currency,
            "effective_from": self.effective_from,
            "emission_factor_tco2_per_mwh": self.emission_tco2_per_mwh,
        }

    def season_index(self, months: np.ndarray) -> np.ndarray:
        lookup = np.zeros(13, dtype=np.int64)
        for month, season in self.season_of_month.items():
            lookup[month] = self.seasons.index(season)
        return lookup[months]

    def classify(self, interval_starts: pd.Series | pd.DatetimeIndex) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(season index, period index, hour) of each interval, from the time the interval starts."""
        starts = pd.DatetimeIndex(interval_starts)
        hours = starts.hour.to_numpy()
        seasons = self.season_index(starts.month.to_numpy())
        return seasons, self.period_table[seasons, hours], hours

    def rate_of(self, interval_starts) -> np.ndarray:
        seasons, periods, _ = self.classify(interval_starts)
        return self.rates[seasons, periods]


def _get(mapping, key: str, path: str):
    if not isinstance(mapping, dict) or key not in mapping:
        raise TariffError(f"{path}.{key}" if path else key, "missing")
    return mapping[key]


def _number(value, path: str, *, minimum: float = 0.0, strict: bool = True, maximum: float | None = None) -> float:
    try:
        return number(path, value, minimum=minimum, strict=strict, maximum=maximum)
    except CopilotInputError as error:
        raise TariffError(error.field, error.reason) from None


def _hour(value, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 24:
        raise TariffError(path, f"expected an hour 0..24, got {value!r}")
    return value


def _pf_window(raw, path: str, *, discount: bool) -> PowerFactorWindow:
    window = _get(raw, "window_hours", path)
    if not isinstance(window, list) or len(window) != 2:
        raise TariffError(f"{path}.window_hours", f"expected [start hour, end hour], got {window!r}")
    start, end = (_hour(h, f"{path}.window_hours") % 24 for h in window)
    if start == end:
        raise TariffError(f"{path}.window_hours", "start and end are the same hour")
    reference = _number(_get(raw, "reference_pct", path), f"{path}.reference_pct", maximum=100)
    floor = _number(
        _get(raw, "surcharge_floor_pct", path), f"{path}.surcharge_floor_pct", strict=False, maximum=reference
    )
    ceiling = None
    if discount and "discount_ceiling_pct" in raw:
        ceiling = _number(
            raw["discount_ceiling_pct"], f"{path}.discount_ceiling_pct", minimum=reference, strict=False, maximum=100
        )
    return PowerFactorWindow(start, end, reference, floor, ceiling)


def parse_tariff(raw, *, path: str = "<memory>", digest: str = "") -> Tariff:
    """Validate a tariff document (the parsed YAML) and build a Tariff; errors name the key path."""
    if not isinstance(raw, dict):
        raise TariffError("<root>", f"expected a mapping of tariff keys, got {type(raw).__name__}")
    for key in ("id", "version", "name", "currency", "effective_from"):
        value = _get(raw, key, "")
        if not isinstance(value, (str, int, float)) or str(value).strip() == "":
            raise TariffError(key, f"expected a non-empty text, got {value!r}")

    seasons_raw = _get(raw, "seasons", "")
    if not isinstance(seasons_raw, dict) or not seasons_raw:
        raise TariffError("seasons", "expected a mapping of season name -> list of months")
    seasons = tuple(str(s) for s in seasons_raw)
    season_of_month: dict[int, str] = {}
    for season, months in seasons_raw.items():
        if not isinstance(months, list):
            raise TariffError(f"seasons.{season}", f"expected a list of months, got {months!r}")
        for month in months:
            if isinstance(month, bool) or not isinstance(month, int) or not 1 <= month <= 12:
                raise TariffError(f"seasons.{season}", f"{month!r} is not a month 1..12")
            if month in season_of_month:
                raise TariffError(f"seasons.{season}", f"month {month} is already in season {season_of_month[month]!r}")
            season_of_month[month] = str(season)
    missing_months = sorted(set(range(1, 13)) - set(season_of_month))
    if missing_months:
        raise TariffError("seasons", f"months {missing_months} belong to no season")

    periods_raw = _get(raw, "periods", "")
    table = np.full((len(seasons), 24), -1, dtype=np.int64)
    for s, season in enumerate(seasons):
        rows = _get(periods_raw, season, "periods")
        if not isinstance(rows, list):
            raise TariffError(f"periods.{season}", "expected a list of [start hour, end hour, period]")
        for i, row in enumerate(rows):
            where = f"periods.{season}[{i}]"
            if not isinstance(row, list) or len(row) != 3:
                raise TariffError(where, f"expected [start hour, end hour, period], got {row!r}")
            start, end = _hour(row[0], where), _hour(row[1], where)
            if row[2] not in PERIODS:
                raise TariffError(where, f"unknown period {row[2]!r} (expected one of {list(PERIODS)})")
            if start >= end:
                raise TariffError(where, f"start hour {start} is not before end hour {end}")
            if (table[s, start:end] >= 0).any():
                raise TariffError(where, f"hours {start}-{end} overlap an earlier row")
            table[s, start:end] = PERIODS.index(row[2])
        uncovered = [h for h in range(24) if table[s, h] < 0]
        if uncovered:
            raise TariffError(f"periods.{season}", f"hours {uncovered} have no period")

    rates_raw = _get(raw, "energy_rates_krw_per_kwh", "")
    rates = np.zeros((len(seasons), len(PERIODS)))
    for s, season in enumerate(seasons):
        row = _get(rates_raw, season, "energy_rates_krw_per_kwh")
        for p, period in enumerate(PERIODS):
            where = f"energy_rates_krw_per_kwh.{season}.{period}"
            rates[s, p] = _number(_get(row, period, f"energy_rates_krw_per_kwh.{season}"), where)

    demand = _number(_get(raw, "demand_charge_krw_per_kw", ""), "demand_charge_krw_per_kw", strict=False)
    billing = _get(raw, "billing_demand", "")
    minutes = _get(billing, "demand_interval_minutes", "billing_demand")
    if minutes != schema.INTERVAL / pd.Timedelta(minutes=1):
        raise TariffError(
            "billing_demand.demand_interval_minutes",
            f"{minutes!r}: readings are 15-minute intervals, so only 15 is supported",
        )
    ratchet = _get(billing, "ratchet_months", "billing_demand")
    if not isinstance(ratchet, list) or any(
        isinstance(m, bool) or not isinstance(m, int) or not 1 <= m <= 12 for m in ratchet
    ):
        raise TariffError("billing_demand.ratchet_months", f"expected a list of months 1..12, got {ratchet!r}")
    lookback = _get(billing, "lookback_months", "billing_demand")
    if isinstance(lookback, bool) or not isinstance(lookback, int) or not 1 <= lookback <= 24:
        raise TariffError("billing_demand.lookback_months", f"expected 1..24 months, got {lookback!r}")

    pf = _get(raw, "power_factor", "")
    share = _number(
        _get(pf, "share_of_demand_charge_per_point", "power_factor"),
        "power_factor.share_of_demand_charge_per_point",
        strict=False,
        maximum=1,
    )
    lagging = _pf_window(_get(pf, "lagging", "power_factor"), "power_factor.lagging", discount=True)
    leading = _pf_window(_get(pf, "leading", "power_factor"), "power_factor.leading", discount=False)

    emission = _get(raw, "emission_factor", "")
    factor = _number(_get(emission, "tco2_per_mwh", "emission_factor"), "emission_factor.tco2_per_mwh", maximum=5)

    load_types = raw.get("load_type_of_period", {}) or {}
    if not isinstance(load_types, dict) or any(k not in PERIODS for k in load_types):
        raise TariffError("load_type_of_period", f"expected a mapping from {list(PERIODS)} to load_type names")
    sources = raw.get("sources", {}) or {}
    if not isinstance(sources, dict) or not sources:
        raise TariffError("sources", "a tariff names its sources (title, url, date)")
    for name, source in sources.items():
        for key in ("title", "url", "date"):
            _get(source, key, f"sources.{name}")

    return Tariff(
        id=str(raw["id"]),
        version=str(raw["version"]),
        name=str(raw["name"]),
        currency=str(raw["currency"]),
        effective_from=str(raw["effective_from"]),
        season_of_month=season_of_month,
        period_table=table,
        seasons=seasons,
        rates=rates,
        demand_charge_per_kw=demand,
        ratchet_months=tuple(ratchet),
        lookback_months=lookback,
        pf_share_per_point=share,
        lagging=lagging,
        leading=leading,
        emission_tco2_per_mwh=factor,
        load_type_of_period={str(k): str(v) for k, v in load_types.items()},
        sources=sources,
        path=path,
        digest=digest,
    )


def tariff_path(path: str | Path | None = None) -> Path:
    """The file to load: the argument, else env ENERGY_TARIFF, else the bundled KEPCO 2018 tariff."""
    return Path(path or env(TARIFF_ENV) or DEFAULT_TARIFF)


def load_tariff(path: str | Path | None = None) -> Tariff:
    """Load and validate a tariff file. Raises TariffError naming the key (or the file) on bad input."""
    file = tariff_path(path)
    try:
        content = file.read_bytes()
    except OSError as error:
        key = "path" if path else (TARIFF_ENV if env(TARIFF_ENV) else "path")
        raise TariffError(key, f"cannot read tariff file {file}: {error.strerror or error}") from error
    return _parse_cached(str(file.resolve()), content)


@lru_cache(maxsize=8)
def _parse_cached(path: str, content: bytes) -> Tariff:
    try:
        raw = yaml.safe_load(content)
    except yaml.YAMLError as error:
        raise TariffError("<file>", f"{path} is not valid YAML: {error}") from error
    return parse_tariff(raw, path=path, digest=hashlib.sha256(content).hexdigest())
