"""The drift verdict stored beside the drift_report table, and read back as the latest month (no Dagster)."""

from __future__ import annotations

import json

import pytest

from energy_assets.ingest import reader
from energy_assets.ingest.validation import validate
from energy_assets.monitoring import drift, reports
from energy_assets.training.evaluation import time_split
from tests.conftest import BUNDLED_CSV


@pytest.fixture(scope="module")
def months():
    raw, _, _ = reader.read_raw(BUNDLED_CSV)
    train, holdout = time_split(validate(raw).clean)
    return train, holdout


def test_the_latest_month_s_verdict_comes_back_as_written(months, tmp_path):
    train, holdout = months
    assert reports.latest_summary(tmp_path) is None and reports.stored_months(tmp_path) == []
    written = {}
    for month in ("2018-11", "2018-10"):  # written out of order: the latest is the latest month, not the last write
        recent, _ = drift.month_and_history(holdout, month)
        report = drift.build_report(month, train, recent, drift.DriftThresholds())
        reports.write_summary(tmp_path, report, run_id=f"run-{month}")
        written[month] = report
    assert reports.stored_months(tmp_path) == ["2018-10", "2018-11"]
    latest = reports.latest_summary(tmp_path)
    expected = written["2018-11"]
    assert latest["month"] == "2018-11" and latest["run_id"] == "run-2018-11"
    assert latest["drifted"] is expected.drifted and latest["reasons"] == expected.reasons
    assert [c["psi"] for c in latest["columns"]] == pytest.approx([c.psi for c in expected.columns])
    assert (tmp_path / "drift_report" / "2018-11.json").exists()


def test_a_damaged_report_is_named(tmp_path):
    folder = reports.report_folder(tmp_path)
    folder.mkdir()
    (folder / "2018-12.json").write_text("{not json")
    with pytest.raises(ValueError, match=r"2018-12\.json"):
        reports.latest_summary(tmp_path)


def test_numpy_values_and_nan_are_stored_as_json_types():
    import numpy as np

    assert (
        json.dumps(reports._plain({"a": np.bool_(True), "b": np.float64("nan"), "c": [np.int64(3)]}))
        == '{"a": true, "b": null, "c": [3]}'
    )
