"""Fixtures of the copilot tests: the bundled year of clean readings, priced once, and the default tariff."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from energy_assets import schema
from tests.conftest import BUNDLED_CSV


@pytest.fixture(scope="session")
def clean() -> pd.DataFrame:
    from energy_assets.ingest import reader
    from energy_assets.ingest.validation import validate

    raw, _, _ = reader.read_raw(BUNDLED_CSV)
    return validate(raw).clean


@pytest.fixture(scope="session")
def tariff():
    from energy_assets.copilot.tariff import load_tariff

    return load_tariff()


@pytest.fixture(scope="session")
def priced(clean, tariff):
    from energy_assets.copilot import service

    return service.prepare_history(clean, tariff)


def series(start: str, usage, lagging=None, leading=None) -> pd.DataFrame:
    """A 15-minute series whose first interval *starts* at `start` (timestamps are interval ends)."""
    usage = np.asarray(usage, dtype=float)
    ends = pd.date_range(pd.Timestamp(start) + schema.INTERVAL, periods=len(usage), freq=schema.INTERVAL)
    frame = pd.DataFrame({schema.TIMESTAMP: ends, schema.TARGET: usage})
    if lagging is not None:
        frame["lagging_reactive_power_kvarh"] = np.broadcast_to(np.asarray(lagging, dtype=float), usage.shape)
        frame["leading_reactive_power_kvarh"] = np.broadcast_to(
            np.asarray(0.0 if leading is None else leading, dtype=float), usage.shape
        )
    return frame
