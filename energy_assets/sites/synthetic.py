"""Synthetic sites derived from the bundled plant, for benchmarks and tests of the fleet.

A synthetic site is the bundled plant's clean readings shifted in time, scaled and noised
(seeded), written as a UCI-shaped export in its own site folder with a `site.yaml` that says
`synthetic: true`. `registry.real_sites` leaves such sites out, so they never reach the
bundled site's models or reports.

The rows are written so the real validation (`ingest.validation.validate`) accepts every one:
- usage and both reactive energies are multiplied by the same factor per interval (the site's
  scale times a mean-one log-normal noise), then written with two decimals like the UCI export;
- both power factors are recomputed from the written energies (pf = P / sqrt(P^2 + Q^2)), and
  kept as they were where P = Q = 0 (undefined, any factor is consistent);
- co2 is recomputed from the written usage at the middle of `schema.EMISSION_FACTOR_KG_PER_KWH`;
- nsm, day_of_week and week_status are recomputed from the shifted timestamps
  (`schema.calendar_columns`); a shift by whole weeks keeps the weekly load schedule aligned;
- values stay inside the schema's ranges (clipped at the maximum before the factors are derived).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from energy_assets import schema
from energy_assets.ingest.validation import TRIANGLE_SIDES
from energy_assets.sites.ids import DEFAULT_SITE, check_site_id
from energy_assets.sites.registry import METADATA_FILE, SYNTHETIC

# The UCI export's date format and midnight convention (the 00:00 reading is dated the day it closes).
DATE_FORMAT = schema.RAW_DATE_FORMATS[0]
ENERGIES = ("usage_kwh", "lagging_reactive_power_kvarh", "leading_reactive_power_kvarh")
FACTORS = (
    ("lagging_reactive_power_kvarh", "lagging_power_factor"),
    ("leading_reactive_power_kvarh", "leading_power_factor"),
)


@dataclass(frozen=True)
class SyntheticSpec:
    site: str
    seed: int
    scale: float = 1.0  # the site's size relative to the bundled plant
    noise: float = 0.05  # standard deviation of the log of the per-interval factor
    shift_days: int = 0  # added to every timestamp
    derived_from: str = DEFAULT_SITE

    def __post_init__(self) -> None:
        check_site_id(self.site, "synthetic site")
        if self.site == DEFAULT_SITE:
            raise ValueError(f"synthetic site: {DEFAULT_SITE!r} is the bundled site and cannot be synthetic")
        if not self.scale > 0:
            raise ValueError(f"synthetic site {self.site!r}: scale must be positive, got {self.scale}")
        if not self.noise >= 0:
            raise ValueError(f"synthetic site {self.site!r}: noise must be 0 or more, got {self.noise}")

    @property
    def shift(self) -> pd.Timedelta:
        return pd.Timedelta(days=self.shift_days)


def fleet_specs(count: int, seed: int = 0) -> list[SyntheticSpec]:
    """`count` synthetic sites `synthetic-001`..., with seeded scales in [0.5, 2] and shifts of 0-4 weeks."""
    rng = np.random.default_rng(seed)
    return [
        SyntheticSpec(
            site=f"synthetic-{index:03d}",
            seed=seed * 100_003 + index,
            scale=round(float(rng.uniform(0.5, 2.0)), 3),
            shift_days=7 * int(rng.integers(0, 5)),
        )
        for index in range(1, count + 1)
    ]


def synthesize(clean: pd.DataFrame, spec: SyntheticSpec) -> pd.DataFrame:
    """The export text (UCI headers and formatting) of the synthetic site `spec` derived from `clean`
    (canonical readings, e.g. `validate(...).clean` of the bundled export)."""
    rng = np.random.default_rng(spec.seed)
    factor = spec.scale * np.exp(rng.normal(-0.5 * spec.noise**2, spec.noise, len(clean)))
    energies = clean[list(ENERGIES)].to_numpy(dtype=float) * factor[:, None]
    # Clip each interval's factor so its largest energy stays inside the schema's range.
    limit = min(schema.NUMERIC[name].maximum for name in ENERGIES)
    peak = energies.max(axis=1)
    energies *= np.where(peak > limit, limit / np.where(peak > 0, peak, 1), 1.0)[:, None]
    written = {name: np.round(energies[:, i], 2) for i, name in enumerate(ENERGIES)}

    p = written["usage_kwh"]
    columns: dict[str, pd.Series] = {name: _text(values) for name, values in written.items()}
    for q_name, pf_name in TRIANGLE_SIDES:
        q = written[q_name]
        with np.errstate(divide="ignore", invalid="ignore"):
            pf = np.round(100.0 * p / np.hypot(p, q), 2)
        columns[pf_name] = _text(np.where(np.isnan(pf), clean[pf_name].to_numpy(dtype=float), pf))
    columns["co2_tco2"] = _text(np.round(p * sum(schema.EMISSION_FACTOR_KG_PER_KWH) / 2 / 1000, 2))

    timestamp = schema.as_timestamps(clean[schema.TIMESTAMP]).reset_index(drop=True) + spec.shift
    calendar = schema.calendar_columns(timestamp)
    midnight = timestamp == timestamp.dt.normalize()
    dated = timestamp.where(~midnight, timestamp - pd.Timedelta(days=1))  # the UCI midnight quirk
    export = pd.DataFrame(
        {
            "date": dated.dt.strftime(DATE_FORMAT),
            "Usage_kWh": columns["usage_kwh"],
            "Lagging_Current_Reactive.Power_kVarh": columns["lagging_reactive_power_kvarh"],
            "Leading_Current_Reactive_Power_kVarh": columns["leading_reactive_power_kvarh"],
            "CO2(tCO2)": columns["co2_tco2"],
            "Lagging_Current_Power_Factor": columns["lagging_power_factor"],
            "Leading_Current_Power_Factor": columns["leading_power_factor"],
            "NSM": calendar["nsm"].astype(str),
            "WeekStatus": calendar["week_status"],
            "Day_of_week": calendar["day_of_week"],
            "Load_Type": clean["load_type"].reset_index(drop=True),
        }
    )
    return export[list(schema.RAW_COLUMNS)]


def _text(values: np.ndarray) -> pd.Series:
    return pd.Series(np.char.mod("%.2f", np.asarray(values, dtype=float)))


def write_synthetic_site(raw_area: str | Path, clean: pd.DataFrame, spec: SyntheticSpec) -> Path:
    """Write the site's folder in `raw_area` (its export and its `site.yaml`); return the folder."""
    folder = Path(raw_area) / spec.site
    folder.mkdir(parents=True, exist_ok=True)
    synthesize(clean, spec).to_csv(folder / f"{spec.site}.csv", index=False)
    metadata = {SYNTHETIC: True, **asdict(spec), "rows": len(clean)}
    (folder / METADATA_FILE).write_text(yaml.safe_dump(metadata, sort_keys=False), encoding="utf-8")
    return folder
