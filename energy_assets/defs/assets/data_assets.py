"""Data assets: the raw export as read, its clean monthly readings, the rejected rows, features, the split."""


import dagster as dg
import pandas as pd
from pydantic import Field

from energy_assets import schema
from energy_assets.defs.partitions import monthly_partitions, register_months
from energy_assets.features.transformers import DayAheadFeatures, EstimatorFeatures
from energy_assets.ingest import reader
from energy_assets.ingest.validation import month_of, validate
from energy_assets.settings import get_settings
from energy_assets.training.evaluation import HOLDOUT_START, time_split

RAW_PATH_KEY = "ops.raw_readings.config.path (or env ENERGY_RAW_CSV)"


class RawSourceConfig(dg.Config):
    path: str = Field(
        default="",
        description="CSV export or folder of CSV exports to ingest. Empty: env ENERGY_RAW_CSV, else the bundled UCI file.",
    )


@dg.asset(group_name="ingest", kinds={"pandas", "parquet"}, description="Every row of the raw export, as text, with its file and line.")
def raw_readings(context: dg.AssetExecutionContext, config: RawSourceConfig) -> dg.Output[pd.DataFrame]:
    path = config.path or str(get_settings().raw_source)
    try:
        frame, version, files = reader.read_raw(path, config_key=RAW_PATH_KEY)
    except (FileNotFoundError, reader.RawSourceError, schema.SchemaError) as error:
        # A plain, user-facing message instead of a stack trace: the path and the key to change.
        raise dg.Failure(description=str(error)) from error
    months = sorted(month_of(validate(frame).clean[schema.TIMESTAMP]).unique())
    new_months = register_months(context.instance, months)
    return dg.Output(
        frame,
        data_version=dg.DataVersion(version),
        metadata={
            "rows": len(frame),
            "source": str(path),
            "files": [f.name for f in files],
            "dvc_md5": version,
            "months": ", ".join(months),
            "new_months": ", ".join(new_months) or "none",
        },
    )


@dg.asset(
    group_name="ingest",
    kinds={"pandas", "parquet"},
    description="Raw rows that need a judgement, each with every reason it was rejected. Counts add up with the clean rows.",
)
def rejected_readings(raw_readings: pd.DataFrame) -> dg.Output[pd.DataFrame]:
    validated = validate(raw_readings)
    counts = validated.counts
    accounted = counts["clean_rows"] + counts["rejected_rows"] + counts["exact_duplicates_dropped"]
    return dg.Output(
        validated.rejected,
        metadata={
            **counts,
            "counts_add_up": accounted == counts["raw_rows"],
            "rejected_share": counts["rejected_rows"] / max(counts["raw_rows"], 1),
            "reasons": dg.MetadataValue.json(validated.reason_counts()),
        },
    )


@dg.asset(
    group_name="ingest",
    kinds={"pandas", "parquet"},
    partitions_def=monthly_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    description="Validated readings in the canonical schema, one partition per month (by interval start).",
)
def clean_readings(context: dg.AssetExecutionContext, raw_readings: pd.DataFrame) -> dg.Output[dict[str, pd.DataFrame]]:
    clean = validate(raw_readings).clean
    month = month_of(clean[schema.TIMESTAMP])
    parts = {key: clean[month.to_numpy() == key].reset_index(drop=True) for key in context.partition_keys}
    rows = {key: len(frame) for key, frame in parts.items()}
    return dg.Output(parts, metadata={"rows": sum(rows.values()), "rows_per_month": dg.MetadataValue.json(rows)})


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
        "train_readings": dg.AssetOut(kinds={"pandas", "parquet"}, description="Clean readings of Jan-Sep 2018.", automation_condition=dg.AutomationCondition.eager()),
        "holdout_readings": dg.AssetOut(kinds={"pandas", "parquet"}, description="Clean readings of Oct-Dec 2018.", automation_condition=dg.AutomationCondition.eager()),
    },
)
def readings_split(clean_readings: pd.DataFrame):
    train, holdout = time_split(clean_readings)
    for name, part in (("train_readings", train), ("holdout_readings", holdout)):
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
