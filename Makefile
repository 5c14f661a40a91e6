# Two commands on a fresh machine (Python 3.11 + make): `make run` and `make test`.
# Every target installs what it needs first; uv is bootstrapped from PyPI into .tools/ if absent.

SHELL := /bin/bash
PYTHON ?= python3
UV_VERSION ?= 0.13.9
UV := $(shell command -v uv 2>/dev/null || echo $(CURDIR)/.tools/bin/uv)
VENV := .venv
RUN := $(VENV)/bin
export DAGSTER_DISABLE_TELEMETRY := 1
export DO_NOT_TRACK := true
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export MLFLOW_DISABLE_TELEMETRY := true

.PHONY: help install data pipeline run ui flows serve bench-serving test lint clean cold-start verify compose-test

help:  ## list the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | column -t -s $$'\t'

$(CURDIR)/.tools/bin/uv:
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.installed: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --all-extras --python $(PYTHON)
	@touch $@

install: $(VENV)/.installed  ## install the locked environment into .venv

data: install  ## put the bundled UCI export in place as the DVC-tracked raw file and push it to the DVC remote
	@$(RUN)/python -m energy_assets.ingest.bootstrap

pipeline: data  ## materialize the whole asset graph (non-interactive) and print a summary
	$(RUN)/python -m energy_assets.pipeline

run: pipeline  ## pipeline, then the Dagster UI (:3000), the MLflow UI (:5000), Prefect (:4200) with the served flows, the API (:8000), until Ctrl-C
	$(RUN)/python -m energy_assets.services

flows: data  ## the Prefect server (:4200) and the operational flows served with their schedules, until Ctrl-C
	$(RUN)/python -m energy_assets.services prefect flows

serve: install  ## the prediction API alone on http://127.0.0.1:8000 (docs at /docs), serving the registry's champions
	$(RUN)/python -m api

bench-serving: install  ## this API vs `mlflow models serve` on the current champion (run `make pipeline` first)
	$(RUN)/python bench/serving.py

ui: data  ## the UIs only, on the current state
	$(RUN)/python -m energy_assets.services

test: data  ## the test suite (materializes the full graph into a temporary ENERGY_HOME)
	$(RUN)/python -m pytest

verify: install  ## check a running stack (make run or docker compose): every service healthy, the API serving a champion
	$(RUN)/python -m energy_assets.verify $(VERIFY_ARGS)

compose-test: install  ## build the images, run docker-compose.yml on loopback, drive it end to end (pipeline, a flow, verify, API), tear it down
	$(RUN)/python -m energy_assets.compose_stack $(COMPOSE_TEST_ARGS)

cold-start:  ## delete the embedded state (ENERGY_HOME)
	rm -rf $${ENERGY_HOME:-.energy}

clean: cold-start  ## delete the embedded state and the environment
	rm -rf $(VENV) .tools
