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
# One OpenMP thread per model fit unless set: Dagster runs steps in parallel processes beside the
# servers, and gradient boosting's one-thread-per-core fits then spin against each other (7.9x slower
# on the reference machine, same predictions; bench/fit_threads.py, docs/benchmarks.md).
export OMP_NUM_THREADS ?= 1

.PHONY: help install data pipeline run ui flows workers serve bench-serving copilot bench-copilot bench-copilot-api test lint clean cold-start verify dashboard browser compose-test engines-test workers

help:  ## list the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | column -t -s $$'\t'

$(CURDIR)/.tools/bin/uv:
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# Bytecode is compiled at install: the suite and `make run` start many Python processes (Dagster's
# webserver, daemon and run workers, MLflow, Prefect, the API), and an environment that sets
# PYTHONDONTWRITEBYTECODE would otherwise recompile every import in each of them (importing the
# definitions took 4.6 s of CPU compiled against 13.3 s from source).
$(VENV)/.installed: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --all-extras --compile-bytecode --python $(PYTHON)
	@touch $@

install: $(VENV)/.installed  ## install the locked environment into .venv

data: install  ## put the bundled UCI export in place as the DVC-tracked raw file and push it to the DVC remote
	@$(RUN)/python -m energy_assets.ingest.bootstrap

pipeline: data  ## materialize the whole asset graph (non-interactive) and print a summary
	$(RUN)/python -m energy_assets.pipeline

run: pipeline  ## pipeline, then the Dagster UI (:3000) with dagster-daemon, the MLflow UI (:5000), Prefect (:4200) with the served flows, the API (:8000), the dashboard (:8501), until Ctrl-C
	$(RUN)/python -m energy_assets.services

flows: data  ## the Prefect server (:4200) and the operational flows served with their schedules, until Ctrl-C
	$(RUN)/python -m energy_assets.services prefect flows

WORKERS ?= 2
workers: data  ## $(WORKERS) Dagster Celery workers (steps of runs started with ENERGY_EXECUTOR=celery; broker RabbitMQ, results in Redis), plus a Prefect worker when ENERGY_PREFECT_WORK_POOL is set, until Ctrl-C
	ENERGY_EXECUTOR=celery $(RUN)/python -m energy_assets.workers --count $(WORKERS)

serve: install  ## the prediction API alone on http://127.0.0.1:8000 (docs at /docs), serving the registry's champions
	$(RUN)/python -m api

bench-serving: install  ## this API vs `mlflow models serve` on the current champion (run `make pipeline` first)
	$(RUN)/python bench/serving.py

copilot: install  ## the copilot's answers on the bundled data: the 2018 bill, moving production 10:00 -> 02:00, correcting the power factor
	$(RUN)/python -m energy_assets.copilot

bench-copilot: install  ## domain-level latency of the copilot's what-ifs and optimizer
	$(RUN)/python bench/copilot.py

bench-copilot-api: install  ## latency of forecast with bands, what-ifs and the optimizer through the API on loopback (run `make pipeline` first)
	$(RUN)/python bench/copilot_api.py

dashboard: install  ## the operator dashboard alone on http://127.0.0.1:8501, over the API at ENERGY_API_URL (default :8000)
	$(RUN)/python -m dashboard

# The dashboard's browser tests drive Debian's Chromium (Playwright's own browser download is not used).
browser:  ## install Debian's Chromium for the browser tests when it is missing (needs root and apt-get)
	@if [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else echo "browser: /usr/bin/chromium is missing and this is not root with apt-get; the browser tests will skip (apt-get install chromium)"; fi

ui: data  ## the UIs only, on the current state
	$(RUN)/python -m energy_assets.services

# The engine tests start Celery and Prefect workers and run pipelines through them, minutes each:
# like the compose stack they have a target of their own, which CI runs after this one.
test: data browser  ## the test suite (materializes the full graph into a temporary ENERGY_HOME), without the engine tests
	$(RUN)/python -m pytest -m "not workers"

engines-test: data  ## the engine tests: steps on two Celery workers (RabbitMQ + Redis), a flow through a Prefect work pool, a killed worker retried
	$(RUN)/python -m pytest -m workers tests/engines

lint: install  ## the lint gate: ruff's formatting and lint rules over the tree, mypy over energy_assets/, api/ and dashboard/
	$(RUN)/ruff format --check .
	$(RUN)/ruff check .
	$(RUN)/mypy

format: install  ## apply ruff's safe lint fixes (import order, ...), then its formatting
	$(RUN)/ruff check --fix-only .
	$(RUN)/ruff format .

verify: install  ## check a running stack (make run or docker compose): every service healthy, the API serving a champion
	$(RUN)/python -m energy_assets.verify $(VERIFY_ARGS)

compose-test: install  ## build the images, run docker-compose.yml on loopback, drive it end to end (pipeline, a flow, verify, API), tear it down
	$(RUN)/python -m energy_assets.compose_stack $(COMPOSE_TEST_ARGS)

cold-start:  ## delete the embedded state (ENERGY_HOME)
	rm -rf $${ENERGY_HOME:-.energy}

clean: cold-start  ## delete the embedded state and the environment
	rm -rf $(VENV) .tools
