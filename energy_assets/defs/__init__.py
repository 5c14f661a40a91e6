"""The Dagster wiring. Importing it first silences messages that repeat on every load or run and
signal no problem, so `make pipeline` and `make run` print the summary and real warnings; each
suppression below is exact (one message, one origin) and says why it is safe."""

import logging
import warnings

# Beta APIs this code location uses on purpose, at the versions pinned in pyproject.toml (which the
# tests run): `data_version` on dg.Output (the raw data's DVC md5), `backfill_policy` (one run per
# backfill), dagster-mlflow's MlFlow resource and end_mlflow_on_run_finished hook. The warning is
# about API stability across upgrades, not about this run; other beta or preview warnings still show.
for _api in ("`data_version`", "`backfill_policy`", "`MlFlow`", "`_create_mlflow_run_hook`"):
    warnings.filterwarnings("ignore", message=rf".*{_api} of .* is currently in beta|.*{_api} is currently in beta")

# MLflow's hint that integer columns in a model signature cannot hold missing values: the models'
# inputs never hold one (the blocking check_no_nulls on the training data; the API validates every
# request against energy_assets.schema before predicting), so the hint cannot apply.
warnings.filterwarnings("ignore", message=r"Hint: Inferred schema contains integer column", category=UserWarning)


# dagster-celery's executor registers its step task on the app again for every step it submits
# (create_task per submission), so Celery warns that the name is taken, once per step. It is the
# same task, and the one registered first is the one called: nothing to act on.
warnings.filterwarnings("ignore", message=r"Task name 'execute_plan' is already registered")


class _DropMessage(logging.Filter):
    def __init__(self, prefix: str):
        super().__init__()
        self.prefix = prefix

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(self.prefix)


# The uv environment has no pip, so MLflow writes `pip` unpinned into each logged model's conda.yaml
# and warns on every log_model. Models are loaded in the locked environment (the API, the flows),
# never rebuilt from that conda.yaml; the pinned requirements are in requirements.txt beside it.
logging.getLogger("mlflow.utils.environment").addFilter(_DropMessage("Failed to resolve installed pip version"))
# INFO lines on every log_model ("Detected uv project", "Copied uv.lock ..."): MLflow stores the
# project's uv.lock and pyproject.toml beside each model, as intended. Its warnings still show.
logging.getLogger("mlflow.utils.uv_utils").setLevel(logging.WARNING)
