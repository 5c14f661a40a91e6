"""The code location loads, with the asset graph, checks, jobs and resources the platform promises."""

import dagster as dg

from energy_assets.definitions import defs

ASSETS = {
    "raw_readings",
    "validated_readings",
    "rejected_readings",
    "clean_readings",
    "features",
    "train_readings",
    "holdout_readings",
    "usage_estimator",
    "day_ahead_forecaster",
    "usage_estimator_champion",
    "day_ahead_forecaster_champion",
}
BLOCKING_ON_CLEAN = {
    "check_schema",
    "check_no_nulls",
    "check_ranges",
    "check_continuity",
    "check_unique_timestamps",
    "check_category_domains",
    "check_day_of_week_consistent",
}


def test_definitions_load_with_the_whole_graph():
    graph = defs.resolve_asset_graph()
    keys = {key.to_user_string() for key in graph.get_all_asset_keys()}
    assert keys >= ASSETS
    upstream = {key.to_user_string() for key in graph.get(dg.AssetKey("usage_estimator")).parent_keys}
    assert upstream == {"train_readings", "holdout_readings"}
    # One validation per run: clean and rejected rows both come from it.
    assert {k.to_user_string() for k in graph.get(dg.AssetKey("validated_readings")).parent_keys} == {"raw_readings"}
    for split in ("clean_readings", "rejected_readings"):
        assert {k.to_user_string() for k in graph.get(dg.AssetKey(split)).parent_keys} == {"validated_readings"}


def test_clean_readings_are_monthly_partitions():
    clean = defs.resolve_assets_def("clean_readings")
    assert isinstance(clean.partitions_def, dg.DynamicPartitionsDefinition)
    assert clean.partitions_def.name == "month"


def test_checks_on_clean_data_block_downstream_and_the_gates_are_blocking():
    by_name = {
        spec.name: (spec.asset_key.to_user_string(), spec.blocking)
        for check_def in defs.asset_checks
        for spec in check_def.check_specs
    }
    for name in BLOCKING_ON_CLEAN:
        assert by_name[name] == ("clean_readings", True), name
    assert by_name["check_usage_estimator_beats_champion"] == ("usage_estimator", True)
    assert by_name["check_day_ahead_forecaster_beats_champion"] == ("day_ahead_forecaster", True)
    assert by_name["check_rejected_share"] == ("rejected_readings", False)
    assert by_name["check_gaps"] == ("clean_readings", False)  # gaps are listed as a warning


def test_every_job_ends_its_mlflow_run():
    for name in ("energy_pipeline", "ingest_month", "retrain_models"):
        job = defs.resolve_job_def(name)
        assert "end_mlflow_on_run_finished" in {hook.name for hook in job.hook_defs}, name
