"""Reading the raw export: every known variant of the file gives the same table; bad files name the problem."""

from pathlib import Path

import pandas as pd
import pytest

from energy_assets import schema
from energy_assets.ingest.reader import RawSourceError, file_md5, read_raw, source_files
from energy_assets.ingest.validation import validate

from .conftest import BUNDLED_CSV, PROJECT_ROOT

HEAD_ROWS = 200


def _variant(tmp_path: Path, name: str, *, bom: bool, crlf: bool, dash: bool, underscore: bool) -> Path:
    text = BUNDLED_CSV.read_bytes().decode("utf-8-sig")
    lines = text.splitlines()[: HEAD_ROWS + 1]
    if dash:
        lines = [lines[0]] + [line.replace("/", "-", 2) for line in lines[1:]]
    if underscore:
        lines[0] = lines[0].replace("Reactive.Power", "Reactive_Power")
    body = ("\r\n" if crlf else "\n").join(lines) + ("\r\n" if crlf else "\n")
    path = tmp_path / name
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + body.encode())
    return path


def test_bundled_file_is_the_genuine_uci_export():
    import hashlib

    assert (
        hashlib.sha256(BUNDLED_CSV.read_bytes()).hexdigest()
        == "9b1cee6f9cb9cd9df2b95814ca90a9a2ff15b7f5f1fba0fae3c643e82072eacc"
    )


def test_data_version_is_the_dvc_md5():
    import yaml

    dvc_file = PROJECT_ROOT / "data" / "raw" / "steel_industry_energy.csv.dvc"
    recorded = yaml.safe_load(dvc_file.read_text())["outs"][0]["md5"]
    _, version, _ = read_raw(BUNDLED_CSV)
    assert version == recorded == file_md5(BUNDLED_CSV)


@pytest.mark.parametrize(
    ("bom", "crlf", "dash", "underscore"),
    [
        (True, True, False, False),
        (False, False, False, False),
        (False, True, True, False),
        (True, False, False, True),
        (False, False, True, True),
    ],
)
def test_known_variants_read_to_the_same_clean_readings(tmp_path, bom, crlf, dash, underscore):
    original = validate(
        read_raw(_variant(tmp_path, "a.csv", bom=True, crlf=True, dash=False, underscore=False))[0]
    ).clean
    variant = validate(
        read_raw(_variant(tmp_path, "b.csv", bom=bom, crlf=crlf, dash=dash, underscore=underscore))[0]
    ).clean
    assert len(original) == HEAD_ROWS
    pd.testing.assert_frame_equal(original, variant)
    assert list(variant.columns) == list(schema.COLUMNS)


def test_missing_file_names_the_path_and_the_config_key(tmp_path):
    missing = tmp_path / "nowhere.csv"
    with pytest.raises(FileNotFoundError) as error:
        read_raw(missing, config_key="ops.raw_readings.config.path")
    assert str(missing) in str(error.value)
    assert "ops.raw_readings.config.path" in str(error.value)


def test_empty_folder_names_the_folder(tmp_path):
    with pytest.raises(RawSourceError, match=str(tmp_path)):
        source_files(tmp_path)


def test_wrong_columns_list_expected_and_found(tmp_path):
    path = tmp_path / "wrong.csv"
    path.write_text("date,Usage_kWh,Voltage\n01/01/2018 00:15,3.17,230\n")
    with pytest.raises(schema.SchemaError) as error:
        read_raw(path)
    message = str(error.value)
    assert str(path) in message
    assert "Expected" in message and "Lagging_Current_Reactive.Power_kVarh" in message
    assert "found ['date', 'Usage_kWh', 'Voltage']" in message


def test_folder_source_reads_every_export_with_its_origin(tmp_path):
    first = _variant(tmp_path, "2018-01a.csv", bom=True, crlf=True, dash=False, underscore=False)
    lines = BUNDLED_CSV.read_bytes().decode("utf-8-sig").splitlines()
    second = tmp_path / "2018-01b.csv"
    second.write_text("\n".join([lines[0], *lines[HEAD_ROWS + 1 : HEAD_ROWS + 11]]) + "\n")
    frame, version, files = read_raw(tmp_path)
    assert [f.name for f in files] == [first.name, second.name]
    assert len(frame) == HEAD_ROWS + 10
    assert set(frame["source_file"]) == {first.name, second.name}
    assert version != file_md5(first)
