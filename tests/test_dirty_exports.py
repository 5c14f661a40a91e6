"""What happens to each kind of fault a real plant export has: normalized, rejected (and why), or accepted."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from energy_assets import schema
from energy_assets.ingest.reader import read_raw
from energy_assets.ingest.sourcemap import SourceMapError, load_source_map
from energy_assets.ingest.validation import validate

from .conftest import BUNDLED_CSV
from .dirty_export import generate, score


@pytest.fixture(scope="module")
def raw() -> pd.DataFrame:
    return read_raw(BUNDLED_CSV)[0]


@pytest.fixture(scope="module")
def genuine(raw) -> pd.DataFrame:
    return validate(raw).clean


def _rows(raw: pd.DataFrame, n: int = 96) -> pd.DataFrame:
    rows = raw.head(n).copy()
    rows.attrs = dict(raw.attrs)
    return rows


def _reason(result, line: int) -> str:
    return dict(zip(result.rejected["source_line"], result.rejected["reason"], strict=True))[line]


# --- formatting: normalized, counted, clean -------------------------------------------------------


@pytest.mark.parametrize(
    ("column", "text", "kind"),
    [
        ("usage_kwh", " 3.17 ", "whitespace"),
        ("timestamp", "01/01/2018 00:15\t", "whitespace"),
        ("load_type", "  Light_Load", "whitespace"),
        ("week_status", "wEEKDAY", "letter_case"),
        ("load_type", "lIGHT_lOAD", "letter_case"),
        ("day_of_week", "MONDAY", "letter_case"),
        ("nsm", "900.0", "integral_float"),
        ("nsm", "900.00", "integral_float"),
    ],
)
def test_formatting_is_normalized_counted_and_the_row_stays_clean(raw, genuine, column, text, kind):
    rows = _rows(raw)
    rows.loc[0, column] = text
    result = validate(rows)
    assert result.rejected.empty, result.rejected["reason"].tolist()
    assert result.normalized[kind] == {column: 1}
    pd.testing.assert_frame_equal(result.clean, genuine.head(96), check_like=False)
    assert rows.loc[0, column] == text  # the raw rows keep the text as read


def test_the_same_reading_written_with_other_formatting_is_an_exact_duplicate(raw):
    rows = _rows(raw, 10)
    copy = rows.loc[[3]].assign(nsm=rows.loc[3, "nsm"] + ".0", week_status=" weekday ")
    result = validate(pd.concat([rows, copy], ignore_index=True))
    assert result.counts == {"raw_rows": 11, "clean_rows": 10, "rejected_rows": 0, "exact_duplicates_dropped": 1}


def test_bom_crlf_and_an_extra_column_are_read_and_reported(tmp_path, genuine):
    lines = BUNDLED_CSV.read_bytes().decode("utf-8-sig").splitlines()[:97]
    lines = [lines[0] + ",mixed_type_col"] + [line + (",x" if i % 2 else ",2.5") for i, line in enumerate(lines[1:])]
    path = tmp_path / "export.csv"
    path.write_bytes(b"\xef\xbb\xbf" + "\r\n".join(lines).encode() + b"\r\n")
    frame, _, _ = read_raw(path)
    assert frame.attrs["extra_columns"] == {"export.csv": ["mixed_type_col"]}
    assert frame.attrs["file_formatting"] == {"export.csv": ["BOM", "CRLF line ends"]}
    assert "mixed_type_col" not in frame.columns
    pd.testing.assert_frame_equal(validate(frame).clean, genuine.head(96))


# --- value faults: rejected with the reason ---------------------------------------------------------


@pytest.mark.parametrize(
    ("column", "text", "fragment"),
    [
        ("usage_kwh", "", "missing value: 'usage_kwh'"),
        ("load_type", "", "unknown category: 'load_type'=''"),
        ("co2_tco2", "#VALUE!", "unparsable value: 'co2_tco2'='#VALUE!'"),
        ("usage_kwh", "3,17", "unparsable value: 'usage_kwh'='3,17'"),
        ("lagging_power_factor", "130", "out of range: 'lagging_power_factor'=130 outside [0, 100]"),
        ("nsm", "900.5", "inconsistent nsm: not on the 900 s grid"),
        ("load_type", "Peak_Load", "unknown category: 'load_type'='Peak_Load'"),
        ("week_status", "Weekend", "inconsistent day: week_status='Weekend'"),
    ],
)
def test_value_faults_are_rejected_naming_the_field(raw, column, text, fragment):
    rows = _rows(raw, 10)
    rows.loc[4, column] = text
    result = validate(rows)
    assert len(result.rejected) == 1 and fragment in _reason(result, 6)


def test_gross_outliers_inside_the_ranges_break_the_power_triangle(raw):
    rows = raw[raw["timestamp"].str.startswith("09/01/2018")].copy()  # a working day
    original = rows.set_index("source_line")
    busy = original[original["lagging_reactive_power_kvarh"].astype(float) > 20].index[0]
    small_q = original[original["lagging_reactive_power_kvarh"].astype(float).between(1, 9)].index[0]
    rows.loc[rows["source_line"] == busy, "usage_kwh"] = "373.0"
    rows.loc[rows["source_line"] == small_q, "lagging_reactive_power_kvarh"] = (
        "39" + original.loc[small_q, "lagging_reactive_power_kvarh"]
    )
    result = validate(rows)
    assert set(result.rejected["source_line"]) == {busy, small_q}
    usage_reason = _reason(result, busy)
    assert "inconsistent power triangle: lagging_power_factor=" in usage_reason and "usage_kwh=373.00" in usage_reason
    # The reason names the value the other fields imply: the meter's usage, within rounding.
    implied = float(usage_reason.split("(or usage_kwh=")[1].split(")")[0])
    assert implied == pytest.approx(float(original.loc[busy, "usage_kwh"]), abs=0.1)
    assert "inconsistent co2" in usage_reason
    assert f"lagging_reactive_power_kvarh=39{original.loc[small_q, 'lagging_reactive_power_kvarh']}" in _reason(
        result, small_q
    )


@pytest.mark.parametrize(
    ("column", "text"), [("leading_power_factor", "80"), ("co2_tco2", "0.09"), ("leading_reactive_power_kvarh", "12.5")]
)
def test_a_power_factor_reactive_energy_or_co2_figure_that_is_not_the_meter_s_is_rejected(raw, column, text):
    rows = _rows(raw, 10)  # leading side: no reactive energy, power factor 100
    rows.loc[4, column] = text
    result = validate(rows)
    assert len(result.rejected) == 1
    assert ("inconsistent co2" if column == "co2_tco2" else "inconsistent power triangle") in _reason(result, 6)


def test_duplicate_timestamps_are_decided_only_by_one_consistent_copy(raw):
    rows = _rows(raw, 10)
    corrupted = rows.loc[[2]].assign(lagging_reactive_power_kvarh="30.5")  # breaks the power triangle
    other_plan = rows.loc[[5]].assign(load_type="Medium_Load")  # consistent too: no rule can decide
    result = validate(pd.concat([rows, corrupted, other_plan], ignore_index=True))
    reasons = result.rejected.set_index(["source_line", "load_type", "lagging_reactive_power_kvarh"])["reason"]
    assert len(result.clean) == 9 and len(result.rejected) == 3
    (decided,) = [r for (line, _, q), r in reasons.items() if line == 4 and q == "30.5"]
    assert "decided by physical consistency: the consistent copy (steel_industry_energy.csv line 4) is kept" in decided
    undecided = [r for (line, _, _), r in reasons.items() if line == 7]
    assert len(undecided) == 2 and all("2 copies and 2 consistent, so no rule decides" in r for r in undecided)


def test_the_genuine_file_fails_only_where_its_co2_figure_was_not_recorded(raw):
    result = validate(raw)
    assert result.reason_counts() == {"inconsistent co2": 47}
    assert result.tolerances["usage_kwh"] == result.tolerances["lagging_power_factor"] == pytest.approx(0.005)


# --- a dirty export end to end through validation -----------------------------------------------------


def test_a_seeded_dirty_export_meets_the_goals(tmp_path, genuine):
    export = generate(tmp_path, seed=11)
    frame, _, _ = read_raw(export.path)
    result = validate(frame)
    goals = score(export, result.clean, result.rejected, result.counts, genuine)
    assert goals["counts_add_up"], goals
    assert goals["corrupted_kept_as_clean"] == 0, goals
    assert goals["formatting_only_rows"] > 1000 and goals["formatting_only_clean_share"] >= 0.99, goals
    assert goals["value_faults"] > 100 and goals["clash_copies_written"] > 10 and goals["missing_intervals"] > 50
    assert set(result.normalized) == {"whitespace", "letter_case", "integral_float"}
    assert frame.attrs["extra_columns"] == {"dirty_export.csv": ["mixed_type_col"]}


# --- source maps ------------------------------------------------------------------------------------

RESHAPED_HEADERS = {
    "timestamp": "Zeit",
    "usage_kwh": "Wirkenergie_Wh",
    "lagging_reactive_power_kvarh": "Blind_induktiv_varh",
    "leading_reactive_power_kvarh": "Blind_kapazitiv_varh",
    "co2_tco2": "CO2_t",
    "lagging_power_factor": "cos_phi_ind",
    "leading_power_factor": "cos_phi_kap",
    "nsm": "Sekunden",
    "week_status": "Wochenstatus",
    "day_of_week": "Wochentag",
    "load_type": "Lastklasse",
}


def _reshaped(tmp_path: Path, genuine: pd.DataFrame) -> tuple[Path, Path]:
    """The genuine readings written as another plant system would: ISO dates in UTC, Wh, pf 0-1, decimal commas."""
    frame = pd.DataFrame(
        {
            "Zeit": (genuine["timestamp"] - pd.Timedelta(hours=9)).dt.strftime("%Y-%m-%dT%H:%M"),
            "Wirkenergie_Wh": (genuine["usage_kwh"] * 1000).round().astype(int).astype(str),
            "Blind_induktiv_varh": (genuine["lagging_reactive_power_kvarh"] * 1000).round().astype(int).astype(str),
            "Blind_kapazitiv_varh": (genuine["leading_reactive_power_kvarh"] * 1000).round().astype(int).astype(str),
            "CO2_t": genuine["co2_tco2"].map(lambda v: f"{v:.2f}".replace(".", ",")),
            "cos_phi_ind": (genuine["lagging_power_factor"] / 100).map(lambda v: f"{v:.4f}".replace(".", ",")),
            "cos_phi_kap": (genuine["leading_power_factor"] / 100).map(lambda v: f"{v:.4f}".replace(".", ",")),
            "Sekunden": genuine["nsm"].astype(str),
            "Wochenstatus": genuine["week_status"],
            "Wochentag": genuine["day_of_week"],
            "Lastklasse": genuine["load_type"],
        }
    )
    export = tmp_path / "anlage.csv"
    frame.to_csv(export, sep=";", index=False)
    source_map = tmp_path / "anlage.yaml"
    source_map.write_text(
        "columns:\n"
        + "".join(f"  {header}: {name}\n" for name, header in RESHAPED_HEADERS.items())
        + "date_formats: ['%Y-%m-%dT%H:%M']\nmidnight: next_day\ndecimal: ','\ndelimiter: ';'\ntimezone: UTC\n"
        + "units:\n  usage_kwh: Wh\n  lagging_reactive_power_kvarh: varh\n  leading_reactive_power_kvarh: varh\n"
        + "  lagging_power_factor: fraction\n  leading_power_factor: fraction\n"
    )
    return export, source_map


def test_a_reshaped_export_with_a_source_map_gives_the_same_clean_readings(tmp_path, genuine):
    export, source_map = _reshaped(tmp_path, genuine)
    frame, _, _ = read_raw(export, source_map=load_source_map(source_map))
    result = validate(frame)
    assert result.rejected.empty, result.rejected["reason"].head().tolist()
    pd.testing.assert_frame_equal(result.clean, genuine, check_exact=False, rtol=1e-12, atol=1e-9)
    # The rounding tolerance follows the export's own resolution (10 Wh, 0.0001 of a power factor).
    assert result.tolerances["usage_kwh"] == pytest.approx(0.005) and result.tolerances[
        "lagging_power_factor"
    ] == pytest.approx(0.005)


def test_a_reshaped_export_without_its_map_names_the_columns_and_the_config_key(tmp_path, genuine):
    export, _ = _reshaped(tmp_path, genuine.head(10))
    with pytest.raises(schema.SchemaError) as error:
        read_raw(export)
    message = str(error.value)
    assert str(export) in message and "Usage_kWh" in message and "Zeit;Wirkenergie_Wh" in message
    assert "ENERGY_SOURCE_MAP" in message


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("columns: {Zeit: timestamp}\n", "'columns' maps no header to"),
        ("columns: {Zeit: time}\n", "'columns' maps to unknown canonical names"),
        ("decimals: ','\n", "unknown keys ['decimals']"),
        ("units: {usage_kwh: MWh}\n", "'units.usage_kwh' must be one of ['kWh', 'Wh']"),
        ("timezone: Mars/Olympus\n", "'timezone' is not an IANA time zone"),
        ("midnight: sometimes\n", "'midnight' must be one of"),
        ("decimal: ','\ndelimiter: ','\n", "'delimiter' must be one character other than the decimal separator"),
        ("- just a list\n", "must be a mapping"),
    ],
)
def test_a_bad_source_map_names_the_file_and_the_key(tmp_path, text, key):
    good_columns = "columns:\n" + "".join(f"  {header}: {name}\n" for name, header in RESHAPED_HEADERS.items())
    body = text if text.startswith(("columns", "-")) else good_columns + text
    path = tmp_path / "map.yaml"
    path.write_text(body)
    with pytest.raises(SourceMapError) as error:
        load_source_map(path, "ops.raw_readings.config.source_map")
    assert str(path) in str(error.value) and "ops.raw_readings.config.source_map" in str(error.value)
    assert key in str(error.value)


def test_a_missing_column_is_a_clear_error_from_make_pipeline_without_a_traceback(tmp_path, capsys):
    from energy_assets.pipeline import main

    path = tmp_path / "short.csv"
    lines = BUNDLED_CSV.read_bytes().decode("utf-8-sig").splitlines()[:5]
    path.write_text("\n".join(line.rsplit(",", 1)[0] for line in lines) + "\n")  # Load_Type left out
    assert main(["--raw", str(path)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and str(path) in err and "missing columns for ['load_type']" in err
    assert "Load_Type" in err and "found ['date'" in err and "ENERGY_SOURCE_MAP" in err
