"""Every raw row ends in exactly one place: clean, rejected with its reasons, or dropped as an exact duplicate."""

import pandas as pd
import pytest

from energy_assets import schema
from energy_assets.ingest.reader import read_raw
from energy_assets.ingest.validation import month_of, validate

from .conftest import BUNDLED_CSV


@pytest.fixture(scope="module")
def raw() -> pd.DataFrame:
    return read_raw(BUNDLED_CSV)[0]


def test_bundled_data_is_clean_but_for_the_co2_outage_of_january_2nd(raw):
    result = validate(raw)
    assert result.counts == {
        "raw_rows": 35040,
        "clean_rows": 35040 - 47,
        "rejected_rows": 47,
        "exact_duplicates_dropped": 0,
    }
    # The file's own faults (docs/data.md): co2_tco2 written 0 while the plant used 19-147 kWh.
    assert result.reason_counts() == {"inconsistent co2": 47}
    assert set(result.rejected["timestamp"].str[:10]) == {"02/01/2018"} and set(result.rejected["co2_tco2"]) == {"0"}
    ts = result.clean[schema.TIMESTAMP]
    assert ts.is_monotonic_increasing and ts.is_unique
    assert ts.iloc[0] == pd.Timestamp("2018-01-01 00:15") and ts.iloc[-1] == pd.Timestamp("2019-01-01 00:00")
    steps = ts.diff().dropna()
    assert (steps[steps != schema.INTERVAL] / schema.INTERVAL).tolist() == [18, 31]  # the two stretches of that outage
    assert schema.schema_problems(result.clean) == []
    assert sorted(month_of(ts).unique()) == [f"2018-{m:02d}" for m in range(1, 13)]


def test_midnight_reading_closes_the_day_it_is_dated(raw):
    clean = validate(raw.head(96)).clean
    last = clean.iloc[-1]
    assert last[schema.TIMESTAMP] == pd.Timestamp("2018-01-02 00:00")
    assert last["day_of_week"] == "Monday" and last["nsm"] == 0


def _corrupt(raw: pd.DataFrame) -> pd.DataFrame:
    rows = raw.head(20).copy()
    rows.loc[1, "usage_kwh"] = "abc"
    rows.loc[2, "lagging_power_factor"] = "130"
    rows.loc[3, "load_type"] = "Peak_Load"
    rows.loc[4, "nsm"] = "1234"
    rows.loc[5, "day_of_week"] = "Sunday"
    rows.loc[6, "timestamp"] = "32/01/2018 01:45"
    rows.loc[7, "co2_tco2"] = ""
    rows.loc[8, "leading_reactive_power_kvarh"] = "-1"
    rows.loc[9, "usage_kwh"] = "inf"
    clash = rows.loc[[10]].assign(usage_kwh="99.9")  # same interval, different value
    exact = rows.loc[[11]]  # the same row exported twice
    return pd.concat([rows, clash, exact], ignore_index=True)


def test_malformed_rows_are_rejected_with_their_reasons(raw):
    result = validate(_corrupt(raw))
    reasons = dict(zip(result.rejected["source_line"], result.rejected["reason"], strict=True))
    expected = {
        3: "unparsable value: 'usage_kwh'='abc'",
        4: "out of range: 'lagging_power_factor'=130 outside [0, 100]",
        5: "unknown category: 'load_type'='Peak_Load'",
        6: "inconsistent nsm",
        7: "inconsistent day: day_of_week='Sunday'",
        8: "unparsable timestamp: '32/01/2018 01:45'",
        9: "missing value: 'co2_tco2'",
        10: "out of range: 'leading_reactive_power_kvarh'=-1",
        11: "not finite: 'usage_kwh'='inf'",
    }
    for line, fragment in expected.items():
        assert fragment in reasons[line], (line, reasons[line])
    clashing = result.rejected[result.rejected["reason"].str.contains("duplicate timestamp with different values")]
    # Only the copy whose usage contradicts its power factors is rejected; the consistent one is kept.
    assert list(clashing["source_line"]) == [12] and list(clashing["usage_kwh"]) == ["99.9"]
    assert "decided by physical consistency" in clashing["reason"].iloc[0]
    assert "inconsistent power triangle" in clashing["reason"].iloc[0]


def test_counts_add_up_and_nothing_is_lost(raw):
    corrupted = _corrupt(raw)
    result = validate(corrupted)
    counts = result.counts
    assert counts["exact_duplicates_dropped"] == 1
    assert (
        counts["clean_rows"] + counts["rejected_rows"] + counts["exact_duplicates_dropped"]
        == counts["raw_rows"]
        == len(corrupted)
    )
    kept_lines = set(result.rejected["source_line"]) | set(range(2, 22))
    assert kept_lines >= set(corrupted["source_line"])
    assert result.reason_counts()["duplicate timestamp with different values"] == 1


def test_a_re_dated_midnight_row_is_rejected_not_silently_moved(raw):
    rows = raw.head(96).copy()
    rows.loc[95, "timestamp"] = "02/01/2018 00:00"  # an export that already moved midnight forward
    result = validate(rows)
    assert len(result.rejected) == 1
    assert "inconsistent day" in result.rejected["reason"].iloc[0]
