"""The goals of real plant exports, measured on a `make pipeline` run over the seeded dirty export.

    .venv/bin/python -m tests.dirty_export /tmp/dirty --seed 7
    ENERGY_HOME=/tmp/dirty/home ENERGY_RAW_CSV=/tmp/dirty/dirty_export.csv make pipeline
    .venv/bin/python bench/dirty_export_goals.py /tmp/dirty

Reads what that run stored (clean partitions, rejected rows with the validation's counts, the
forecaster champion in its MLflow store) and the truth beside the export, and prints: corrupted
values kept as clean, formatting-only rows that ended clean, whether every row is accounted for,
and the holdout RMSE on the genuine holdout intervals of the dirty-trained forecaster champion next
to a forecaster fit here, with the same recipe, on the genuine Jan-Sep readings.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from energy_assets import schema
from energy_assets.ingest.reader import read_raw
from energy_assets.ingest.validation import validate
from energy_assets.settings import FORECASTER_MODEL_NAME, PROJECT_ROOT
from energy_assets.training.evaluation import HOLDOUT_START, time_split
from energy_assets.training.models import ForecasterParams, fit_day_ahead_forecaster
from tests.dirty_export import DirtyExport, score


def holdout_rmse(predicted: np.ndarray, genuine: pd.DataFrame) -> float:
    holdout = (schema.interval_day(genuine[schema.TIMESTAMP]) >= HOLDOUT_START).to_numpy()
    return float(np.sqrt(np.mean((predicted[holdout] - genuine[schema.TARGET].to_numpy()[holdout]) ** 2)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("export_dir", type=Path, help="folder with dirty_export.csv, truth.parquet and the run's home/")
    parser.add_argument(
        "--model-uri", default=f"models:/{FORECASTER_MODEL_NAME}@champion", help="the dirty-trained forecaster"
    )
    args = parser.parse_args(argv)
    home = args.export_dir / "home"
    os.environ["ENERGY_HOME"] = str(home)
    import mlflow

    from energy_assets.settings import get_settings

    assets = get_settings().asset_dir
    genuine = validate(read_raw(PROJECT_ROOT / "data" / "uci" / "steel_industry_energy.csv")[0]).clean
    clean = pd.concat(
        [pd.read_parquet(p) for p in sorted((assets / "clean_readings").glob("*.parquet"))], ignore_index=True
    )
    rejected = pd.read_parquet(assets / "rejected_readings.parquet")
    counts = rejected.attrs["validation_summary"]
    truth = pd.read_parquet(args.export_dir / "truth.parquet")
    export = DirtyExport(
        args.export_dir / "dirty_export.csv", truth, json.loads((args.export_dir / "dropped.json").read_text())
    )
    goals = score(export, clean, rejected, counts, genuine)

    mlflow.set_tracking_uri(get_settings().mlflow_tracking_uri)
    frame = genuine[list(schema.COLUMNS)]
    dirty_model = mlflow.pyfunc.load_model(args.model_uri)
    goals["dirty_trained_rmse"] = holdout_rmse(np.asarray(dirty_model.predict(frame)).ravel(), genuine)
    train, _ = time_split(genuine)
    clean_model = fit_day_ahead_forecaster(train, ForecasterParams())
    goals["clean_trained_rmse"] = holdout_rmse(clean_model.predict(frame), genuine)
    goals["rmse_ratio"] = goals["dirty_trained_rmse"] / goals["clean_trained_rmse"]
    print(json.dumps(goals, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
