"""ingest: a new month's export is versioned with DVC and its partition built in Dagster, counts add up."""

import csv
import io
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import dagster as dg
import pytest

from energy_assets.flows import dagster_runs
from energy_assets.flows.ingest import ingest
from tests.conftest import BUNDLED_CSV, isolated_home
from tests.flows.conftest import dvc_project


def export_2019(target: Path, month: int = 1, duplicate_rows: int = 0, broken_usage: str | None = None) -> int:
    """A 2018 month's readings re-dated to 2019, in the UCI format, weekday columns recomputed."""
    text = BUNDLED_CSV.read_text(encoding="utf-8-sig")
    reader = csv.reader(io.StringIO(text))
    header = next(reader)
    rows = []
    for row in reader:
        if row[0][3:10] != f"{month:02d}/2018":
            continue
        dated = datetime.strptime(row[0][:10], "%d/%m/%Y").replace(year=2019)
        row[0] = dated.strftime("%d/%m/%Y") + row[0][10:]
        # the export dates a midnight reading by the day it closes, and names that day
        row[9] = dated.strftime("%A")
        row[8] = "Weekend" if dated.weekday() >= 5 else "Weekday"
        rows.append(row)
    rows += rows[:duplicate_rows]
    if broken_usage is not None:
        rows[100][1] = broken_usage
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    target.write_text(out.getvalue())
    return len(rows)


@pytest.fixture(scope="module")
def ingest_home(tmp_path_factory):
    """A plant's first ingest: the bundled export (already in the raw area) builds every 2018 month.

    The clean-readings checks judge the whole clean set (continuity across months), so a new month
    is ingested next to the months before it, as in production.
    """
    root = tmp_path_factory.mktemp("flows-ingest")
    area = dvc_project(root / "repo")
    with isolated_home(root / "home", ENERGY_RAW_CSV=str(area)):
        first = ingest(str(area / "steel_industry_energy.csv"))
    assert first.months == [f"2018-{m:02d}" for m in range(1, 13)]
    return root, area


def test_ingest_versions_the_export_and_builds_its_month(ingest_home):
    root, area = ingest_home
    export = root / "steel_industry_energy_2019-01.csv"
    raw_rows = export_2019(export, duplicate_rows=3)
    with isolated_home(root / "home", ENERGY_RAW_CSV=str(area)):
        outcome = ingest(str(export))
        run = dagster_runs.outcome(outcome.run_id)
    assert outcome.months == ["2019-01"]
    counts = outcome.export_counts
    assert counts["raw_rows"] == raw_rows == 31 * 96 + 3
    # The January co2 outage of the bundled year (docs/data.md) comes along, re-dated: 47 rejected.
    assert counts["exact_duplicates_dropped"] == 3 and counts["rejected_rows"] == 47
    assert counts["clean_rows"] + counts["rejected_rows"] + counts["exact_duplicates_dropped"] == counts["raw_rows"]
    assert outcome.clean_rows_per_month == {"2019-01": 31 * 96 - 47}
    source = outcome.source_counts
    assert source["clean_rows"] == 35040 - 47 + 31 * 96 - 47  # the bundled year plus the new month
    assert sum(source[k] for k in ("clean_rows", "rejected_rows", "exact_duplicates_dropped")) == source["raw_rows"]
    # DVC recorded and pushed it; the Dagster run built only that partition, with its checks passing
    dvc_file = area / (export.name + ".dvc")
    assert outcome.dvc_md5 in dvc_file.read_text()
    status = subprocess.run(
        [str(Path(sys.executable).with_name("dvc")), "status", "-c", "--json"],
        cwd=area.parent.parent,
        capture_output=True,
        text=True,
        check=True,
    )
    assert status.stdout.strip() in ("{}", "")
    assert run.success and {m["partition"] for m in run.materializations["clean_readings"]} == {"2019-01"}
    assert {c.name for c in run.checks if c.passed} >= {
        "check_continuity",
        "check_schema",
        "check_day_of_week_consistent",
    }


def test_ingest_of_an_export_with_a_gap_past_the_limit_fails_with_the_check_message(ingest_home):
    root, area = ingest_home
    export = root / "steel_industry_energy_2019-02.csv"
    export_2019(export, month=2, broken_usage="-5")  # a rejected reading: a gap within the limits
    lines = export.read_text().splitlines(keepends=True)
    export.write_text("".join(lines[:1000] + lines[1100:]))  # and 25 hours missing: past the 24-hour limit
    with (
        isolated_home(root / "home", ENERGY_RAW_CSV=str(area)),
        pytest.raises(dagster_runs.DagsterRunFailed, match="check_continuity"),
    ):
        ingest(str(export))


def test_a_first_ingest_into_a_new_instance_builds_every_month_of_the_raw_area(tmp_path):
    """A new export ingested before any pipeline run: the months already in the raw area are built too."""
    area = dvc_project(tmp_path / "repo")
    export = tmp_path / "export-2019-01.csv"
    export_2019(export, month=1)
    with isolated_home(tmp_path / "home", ENERGY_RAW_CSV=str(area)):
        outcome = ingest(str(export))
        built = dagster_runs.instance().get_materialized_partitions(dg.AssetKey("clean_readings"))
    assert outcome.months == [f"2018-{m:02d}" for m in range(1, 13)] + ["2019-01"]
    assert outcome.clean_rows_per_month["2019-01"] == 31 * 96 - 47
    assert set(built) == set(outcome.months)
