"""api/app.py: the app as a whole: its OpenAPI document and docs, and what the API package imports."""

from __future__ import annotations

from energy_assets import schema


def test_openapi_docs_are_served(client):
    assert client.get("/docs").status_code == 200
    spec = client.get("/openapi.json").json()
    reading = spec["components"]["schemas"]["Reading"]["properties"]
    assert reading["co2_tco2"]["maximum"] == schema.NUMERIC["co2_tco2"].maximum
    assert set(reading["load_type"]["enum"]) == set(schema.CATEGORIES["load_type"])


def test_api_package_imports_neither_dagster_nor_prefect():
    import subprocess
    import sys

    code = (
        "import sys, api.app, api.mcp, api.routers.copilot, energy_assets.copilot.service; "
        "bad = [m for m in ('dagster', 'prefect', 'dvc') if m in sys.modules]; print(bad); sys.exit(1 if bad else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
