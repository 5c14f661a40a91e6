"""api/schemas.py: the request models' own rules, without a request."""

from __future__ import annotations

import pandas as pd

from energy_assets import schema


def test_scalar_calendar_rule_agrees_with_the_schema_over_a_year():
    from api.schemas import interval_calendar

    stamps = pd.Series(pd.date_range("2018-01-01 00:15", "2019-01-01 00:00", freq="15min"))
    expected = schema.calendar_columns(stamps)
    derived = pd.DataFrame(
        [interval_calendar(ts.to_pydatetime()) for ts in stamps], columns=["nsm", "day_of_week", "week_status"]
    )
    pd.testing.assert_frame_equal(derived, expected[["nsm", "day_of_week", "week_status"]], check_dtype=False)
