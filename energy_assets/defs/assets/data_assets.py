"""Data assets: the raw export as read, its clean monthly readings, the rejected rows, features, the split."""

import dagster as dg
import pandas as pd
from pydantic import Field

from energy_assets import schema
from energy_assets.defs.partitions import monthly_partitions, register_months
from energy_assets.defs.resources import RawSource
from energy_assets.features.transformers import DayAheadFeatures, EstimatorFeatures
from energy_assets.ingest import reader
from energy_assets.ingest.sourcemap import SourceMapError, load_source_map
from energy_assets.ingest.validation import ValidatedReadings, interval_months, month_of, validate
from energy_assets.training.evaluation import HOLDOUT_START, time_split

RAW_PATH_KEY = "ops.raw_readings.config.path (or env ENERGY_RAW_CSV)"
SOURCE_MAP_KEY = "ops.raw_readings.config.source_map (or env ENERGY_SOURCE_MAP)"


class RawSourceConfig(dg.Config):
    path: str = Field(
        default="",
        description=(
            "CSV export or folder of CSV exports to ingest. Empty: env ENERGY_RAW_CSV, else the bundled UCI file."
        ),
    )
    source_map: str = Field(
        default="",
        description=(
            "YAML source map describing the export's shape (docs/data.md). Empty: env ENERGY_SOURCE_MAP, else "
            "the UCI export's shape."
        ),
    )


def read_source(path: str, source_map: str) -> tuple[pd.DataFrame, str, list]:
    """The raw rows, or a Failure whose message names the file or key to change (no stack trace)."""
    try:
        mapping = load_source_map(source_map, SOURCE_MAP_KEY)
        return reader.read_raw(path, config_key=RAW_PATH_KEY, source_map=mapping, map_key=SOURCE_MAP_KEY)
    except (FileNotFoundError, reader.RawSourceError, schema.SchemaError, SourceMapError) as error:
        raise dg.Failure(description=str(error)) from error


@dg.asset(
    group_name="ingest",
    kinds={"pandas", "parquet"},
    description="Every row of the raw export, as text, with its file and line.",
)
def raw_readings(
    context: dg.AssetExecutionContext, config: RawSourceConfig, raw_source: RawSource
) -> dg.Output[pd.DataFrame]:
    path = config.path or str(raw_source.source())
    source_map = config.source_map or raw_source.map_path()
    frame, version, files = read_source(path, source_map)
    extra = frame.attrs["extra_columns"]
    if extra:
        context.log.warning(f"extra columns ignored (not in the source map): {extra}")
    months = interval_months(frame)
    new_months = register_months(context.instance, months)
    return dg.Output(
        frame,
        data_version=dg.DataVersion(version),
        metadata={
            "rows": len(frame),
            "source": str(path),
            "source_map": frame.attrs[reader.SOURCE_MAP]["origin"],
            "files": [f.name for f in files],
            "dvc_md5": version,
            "months": ", ".join(months),
            "new_months": ", ".join(new_months) or "none",
            "extra_columns": dg.MetadataValue.json(extra),
            "file_formatting": dg.MetadataValue.json(frame.attrs["file_formatting"]),
        },
    )


@dg.asset(
    group_name="ingest",
    kinds={"pandas", "parquet"},
    description="The one validation of a run: the raw rows split into clean readings and rejected rows (with reasons).",
)
def validated_readings(raw_readings: pd.DataFrame) -> dg.Output[dict[str, pd.DataFrame]]:
    validated = validate(raw_readings)
    summary = validation_summary(validated)
    rejected = validated.rejected
    rejected.attrs[SUMMARY] = summary  # the counts travel with the rejected rows
    return dg.Output({"clean": validated.clean, "rejected": rejected}, metadata=summary_metadata(summary))


SUMMARY = "validation_summary"


def validation_summary(validated: ValidatedReadings) -> dict:
    counts = validated.counts
    accounted = counts["clean_rows"] + counts["rejected_rows"] + counts["exact_duplicates_dropped"]
    return {
        **counts,
        "counts_add_up": accounted == counts["raw_rows"],
        "rejected_share": counts["rejected_rows"] / max(counts["raw_rows"], 1),
        "reasons": validated.reason_counts(),
        "normalized_formatting": validated.normalized,
        "rounding_tolerances": validated.tolerances,
        "data_version": validated.clean.attrs.get(reader.DATA_VERSION, ""),
    }


def summary_metadata(summary: dict) -> dict:
    return {k: dg.MetadataValue.json(v) if isinstance(v, dict) else v for k, v in summary.items()}


@dg.asset(
    group_name="ingest",
    kinds={"pandas", "parquet"},
    description=(
        "Raw rows that need a judgement, each with every reason it was rejected. Counts add up with the clean rows."
    ),
)
def rejected_readings(validated_readings: dict[str, pd.DataFrame]) -> dg.Output[pd.DataFrame]:
    rejected = validated_readings["rejected"]
    return dg.Output(rejected, metadata=summary_metadata(rejected.attrs.get(SUMMARY, {"rejected_rows": len(rejected)})))


@dg.asset(
    group_name="ingest",
    kinds={"pandas", "parquet"},
    partitions_def=monthly_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    description="Validated readings in the canonical schema, one partition per month (by interval start).",
)
def clean_readings(
    context: dg.AssetExecutionContext, validated_readings: dict[str, pd.DataFrame]
) -> dg.Output[dict[str, pd.DataFrame]]:
    clean = validated_readings["clean"]
    month = month_of(clean[schema.TIMESTAMP])
    parts = {}
    for key in context.partition_keys:
        part = clean[month.to_numpy() == key].reset_index(drop=True)
        part.attrs = dict(clean.attrs)  # the raw data version travels with every partition
        parts[key] = part
    rows = {key: len(frame) for key, frame in parts.items()}
    return dg.Output(
        parts,
        metadata={
            "rows": sum(rows.values()),
            "rows_per_month": dg.MetadataValue.json(rows),
            "data_version": clean.attrs.get(reader.DATA_VERSION, ""),
        },
    )


@dg.asset(
    group_name="features",
    kinds={"pandas", "parquet"},
    automation_condition=dg.AutomationCondition.eager(),  # follows new clean readings (sensor clean_data_followers)
    description="Both models' features for every clean interval, computed by the transformers inside the models.",
)
def features(clean_readings: pd.DataFrame) -> dg.Output[pd.DataFrame]:
    estimator = EstimatorFeatures().transform(clean_readings).add_prefix("estimator__")
    day_ahead = DayAheadFeatures().transform(clean_readings).add_prefix("day_ahead__")
    table = pd.concat([clean_readings[[schema.TIMESTAMP, schema.TARGET]], estimator, day_ahead], axis=1)
    return dg.Output(table, metadata={"rows": len(table), "columns": len(table.columns)})


@dg.multi_asset(
    group_name="features",
    outs={
        "train_readings": dg.AssetOut(
            kinds={"pandas", "parquet"},
            description="Clean readings of Jan-Sep 2018.",
            automation_condition=dg.AutomationCondition.eager(),
        ),
        "holdout_readings": dg.AssetOut(
            kinds={"pandas", "parquet"},
            description="Clean readings of Oct-Dec 2018.",
            automation_condition=dg.AutomationCondition.eager(),
        ),
    },
)
def readings_split(clean_readings: pd.DataFrame):
    train, holdout = time_split(clean_readings)
    for name, part in (("train_readings", train), ("holdout_readings", holdout)):
        part.attrs = dict(clean_readings.attrs)  # the raw data version travels on to the models
        yield dg.Output(
            part,
            output_name=name,
            metadata={
                "rows": len(part),
                "first": str(part[schema.TIMESTAMP].min()),
                "last": str(part[schema.TIMESTAMP].max()),
                "holdout_start": str(HOLDOUT_START.date()),
            },
        )
