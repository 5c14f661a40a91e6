"""Lineage every model and prediction carries: data version, code version, git commit, Dagster run."""

from __future__ import annotations

import hashlib
import subprocess
from functools import lru_cache

from energy_assets.settings import PROJECT_ROOT

PACKAGE = PROJECT_ROOT / "energy_assets"
# The sources that decide what a model computes; a change to any of them is a new code version.
MODEL_SOURCES = ("schema.py", "features", "training")

# Tag keys, shared by the registry writer (gating), the API and the flows.
TAG_DAGSTER_RUN = "dagster_run_id"
TAG_DATA_VERSION = "data_version"
TAG_GIT_COMMIT = "git_commit"
TAG_CODE_VERSION = "code_version"
TAG_HOLDOUT_RMSE = "holdout_rmse"
TAG_HOLDOUT_MAE = "holdout_mae"
TAG_HOLDOUT_R2 = "holdout_r2"
TAG_GATE_DECISION = "gate_decision"
TAG_GATE_REFERENCE = "gate_reference"
TAG_GATE_REFERENCE_RMSE = "gate_reference_rmse"


@lru_cache(maxsize=1)
def code_version() -> str:
    """A short hash of the model-defining sources (schema, features, training)."""
    digest = hashlib.sha256()
    for entry in MODEL_SOURCES:
        path = PACKAGE / entry
        files = sorted(path.rglob("*.py")) if path.is_dir() else [path]
        for file in files:
            digest.update(file.relative_to(PACKAGE).as_posix().encode())
            digest.update(file.read_bytes())
    return digest.hexdigest()[:12]


def git_commit() -> str:
    """The project's HEAD commit, with '-dirty' when tracked files differ from it; 'unknown' outside git."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True, timeout=10
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"{head}-dirty" if dirty else head
