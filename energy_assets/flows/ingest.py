"""Flow `ingest`: version a new export with DVC, then materialize its month partitions in Dagster.

How a new export joins the raw source: the raw *area* is a folder (the folder of ENERGY_RAW_CSV, by
default data/raw/), and every export is one CSV file in it, tracked by its own .dvc file. The raw
reader accepts a folder and reads every *.csv in it, so after an ingest the raw source is the whole
area: rows repeated across exports are dropped as exact duplicates, and the raw data version is a
hash over the files' DVC md5s (for a single file: that file's md5). The month partitions the export
covers are rebuilt, with their blocking checks; other months are left as they are.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from prefect import flow, task

from energy_assets import settings as energy_settings
from energy_assets.flows import dagster_runs
from energy_assets.flows.tasks import launch_dagster_job, notify_failure, publish, require_success, run_line
from energy_assets.ingest.reader import file_md5, read_export, read_raw, source_files
from energy_assets.ingest.validation import interval_months, month_of, validate

JOB = "ingest_month"
MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


@dataclass
class IngestOutcome:
    run_id: str
    run_url: str
    months: list[str]
    export: str
    dvc_md5: str
    export_counts: dict[str, int]  # raw_rows, clean_rows, rejected_rows, exact_duplicates_dropped of the export alone
    source_counts: dict[str, int]  # the same over the whole raw area, as the Dagster run counted them
    clean_rows_per_month: dict[str, int]


def raw_area() -> Path:
    """The folder new exports go to: ENERGY_RAW_CSV if it is a folder, else the folder of that file."""
    return energy_settings.get_settings().raw_area


def dvc_root(area: Path) -> Path:
    """The DVC project holding the raw area (the nearest parent with a .dvc folder)."""
    for folder in (area, *area.parents):
        if (folder / ".dvc").is_dir():
            return folder
    raise FileNotFoundError(
        f"raw area {area} (from ENERGY_RAW_CSV) is not inside a DVC project: no .dvc folder above it"
    )


def _dvc(root: Path, *args: str) -> str:
    dvc = Path(sys.executable).with_name("dvc")
    done = subprocess.run(
        [str(dvc) if dvc.exists() else "dvc", *args], cwd=root, capture_output=True, text=True, timeout=600
    )
    if done.returncode != 0:
        raise RuntimeError(f"dvc {' '.join(args)} failed in {root}: {done.stderr.strip() or done.stdout.strip()}")
    return done.stdout


@task
def version_export(export: Path) -> tuple[Path, str]:
    """Copy the export into the raw area (unless it is there), `dvc add` it and `dvc push` it; return it and its md5."""
    area = raw_area()
    area.mkdir(parents=True, exist_ok=True)
    target = export if export.resolve().parent == area.resolve() else area / export.name
    if target != export:
        if target.exists() and file_md5(target) != file_md5(export):
            raise FileExistsError(
                f"{target} already exists with other content: rename the export {export} before ingesting it"
            )
        shutil.copyfile(export, target)
    root = dvc_root(area)
    relative = str(target.resolve().relative_to(root.resolve()))
    _dvc(root, "add", "--quiet", relative)
    _dvc(root, "push", "--quiet", relative + ".dvc")
    return target, file_md5(target)


def _counts_markdown(outcome: IngestOutcome, run: dagster_runs.DagsterRun) -> str:
    names = ("raw_rows", "clean_rows", "rejected_rows", "exact_duplicates_dropped")
    lines = [
        f"### Ingest of {outcome.export}",
        "",
        run_line(run),
        "",
        f"DVC md5 of the export: `{outcome.dvc_md5}`; months rebuilt: {', '.join(outcome.months)}",
        "",
        "| rows | " + " | ".join(names) + " |",
        "|---|" + "---:|" * len(names),
        "| this export | " + " | ".join(f"{outcome.export_counts.get(n, 0):,}" for n in names) + " |",
        "| whole raw source | " + " | ".join(f"{outcome.source_counts.get(n, 0):,}" for n in names) + " |",
        "",
        "| month | clean rows in its partition |",
        "|---|---:|",
        *[f"| {m} | {n:,} |" for m, n in outcome.clean_rows_per_month.items()],
    ]
    return "\n".join(lines)


def unbuilt_months(area: Path, instance) -> list[str]:
    """Months of the raw area whose clean partition was never materialized in this instance.

    The clean-readings checks judge the whole clean history (continuity across months), so a first
    ingest into a new instance builds every month of the raw area, not only the export's.
    """
    import dagster as dg

    frame, _, _ = read_raw(area, "ENERGY_RAW_CSV")
    in_area = set(interval_months(frame))
    built = instance.get_materialized_partitions(dg.AssetKey("clean_readings"))
    return sorted(in_area - set(built))


@flow(name="ingest", log_prints=True)
def ingest(export: str) -> IngestOutcome:
    """Ingest `export`: a CSV file (a new export) or a month YYYY-MM already in the raw area (rebuild it)."""
    try:
        area = raw_area()
        if MONTH.match(export):
            months, counts = [export], {}
            for file in source_files(area, "ENERGY_RAW_CSV"):
                version_export(file)
            md5 = "(raw area as recorded)"
        else:
            path = Path(export)
            if not path.is_file():
                raise FileNotFoundError(
                    f"export {export!r} is neither a CSV file nor a month YYYY-MM (flow parameter 'export')"
                )
            validated = validate(read_export(path))
            months = sorted(month_of(validated.clean["timestamp"]).unique())
            if not months:
                raise ValueError(f"{path}: no clean reading in the export, nothing to ingest")
            counts = validated.counts
            _, md5 = version_export(path)
        instance = dagster_runs.instance()
        months = sorted(set(months) | set(unbuilt_months(area, instance)))
        tags = dagster_runs.month_tags(months, instance)
        run = require_success(launch_dagster_job(JOB, {"ops": {"raw_readings": {"config": {"path": str(area)}}}}, tags))
        source_counts = {
            k: int(v)
            for k, v in run.metadata_of("rejected_readings").items()
            if k in ("raw_rows", "clean_rows", "rejected_rows", "exact_duplicates_dropped")
        }
        per_month = dict(run.metadata_of("clean_readings")["rows_per_month"])
        outcome = IngestOutcome(
            run_id=run.run_id,
            run_url=run.url,
            months=months,
            export=export,
            dvc_md5=md5,
            export_counts=counts,
            source_counts=source_counts,
            clean_rows_per_month={m: int(per_month.get(m, 0)) for m in months},
        )
    except Exception as error:
        notify_failure("ingest", error)
        raise
    publish("ingest-counts", _counts_markdown(outcome, run), "row counts of the ingested export")
    print(f"ingested {export}: months {months}, counts {counts or source_counts}, {run.url}")
    return outcome


if __name__ == "__main__":
    ingest(sys.argv[1])
