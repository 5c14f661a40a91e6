"""Where each month's drift verdict is kept for readers outside Dagster (the API, the dashboard).

The `drift_report` asset stores the month's table as Parquet (its IO manager) and, beside it, the
whole verdict (`DriftReport.to_dict()`: drifted, reasons, columns, each champion's error against its
limit, thresholds) as `<month>.json`, written here. Readers take the latest month from the files,
without Dagster's event log.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import re
from pathlib import Path

from energy_assets.monitoring.drift import DriftReport

FOLDER = "drift_report"  # the asset's key: ENERGY_HOME/assets/drift_report/<month>.parquet and .json
_MONTH_FILE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])\.json$")


def report_folder(asset_dir: Path) -> Path:
    return Path(asset_dir) / FOLDER


def write_summary(asset_dir: Path, report: DriftReport, *, run_id: str | None = None) -> Path:
    """Store `report`'s verdict as JSON beside the month's table (atomically: a reader never sees half a file)."""
    folder = report_folder(asset_dir)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{report.month}.json"
    body = {**report.to_dict(), "computed_at": dt.datetime.now(tz=dt.UTC).isoformat(), "run_id": run_id}
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(_plain(body), indent=1, allow_nan=False))
    os.replace(tmp, path)
    return path


def _plain(value):
    """JSON types only: numpy scalars as Python numbers, NaN and infinities as null."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def stored_months(asset_dir: Path) -> list[str]:
    folder = report_folder(asset_dir)
    return sorted(p.stem for p in folder.glob("*.json") if _MONTH_FILE.match(p.name)) if folder.is_dir() else []


def latest_summary(asset_dir: Path) -> dict | None:
    """The verdict of the latest month with a stored report, or None when no month has been monitored yet."""
    months = stored_months(asset_dir)
    if not months:
        return None
    path = report_folder(asset_dir) / f"{months[-1]}.json"
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise ValueError(f"{path}: the stored drift report cannot be read ({error})") from None
