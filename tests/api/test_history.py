"""api/history.py: the planned load schedule of a day the clean readings do not hold."""

from __future__ import annotations

import pandas as pd


def test_planned_schedule_keeps_sundays_light_all_day(small_home):
    from api.history import CleanHistory, planned_load_types

    history = CleanHistory(small_home.clean_readings_dir).frame()
    sunday = pd.Timestamp("2018-12-30")
    assert set(planned_load_types(history, sunday)) == {"Light_Load"}
    actual = history[history["_day"] == pd.Timestamp("2018-12-19")]["load_type"].tolist()
    planned = planned_load_types(history, pd.Timestamp("2018-12-19"))  # a Wednesday with known schedule
    assert sum(a == p for a, p in zip(actual, planned, strict=True)) / 96 > 0.9
