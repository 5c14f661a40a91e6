"""Reading the plant's CSV exports into a raw table of strings, one row per data line.

Nothing is parsed or fixed here: every value stays the text the meter export wrote, so the
validation step can reject a row with the exact text that was wrong. Accepted variants: with or
without a UTF-8 BOM, CRLF or LF line ends, and both spellings of the lagging reactive power column.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd

from energy_assets import schema

SOURCE_FILE = "source_file"
SOURCE_LINE = "source_line"
RAW_VALUE_COLUMNS: tuple[str, ...] = tuple(dict.fromkeys(schema.RAW_COLUMN_ALIASES.values()))


class RawSourceError(ValueError):
    """The configured raw source cannot be read as a plant export."""


def source_files(path: str | Path, config_key: str = "ENERGY_RAW_CSV") -> list[Path]:
    """The CSV files a raw source names: the file itself, or every *.csv in a folder, sorted."""
    source = Path(path)
    if source.is_dir():
        files = sorted(p for p in source.glob("*.csv") if p.is_file())
        if not files:
            raise RawSourceError(f"raw source folder {source} (config key '{config_key}') holds no *.csv file")
        return files
    if not source.is_file():
        raise FileNotFoundError(
            f"raw readings file not found: {source} (set config key '{config_key}' to an existing CSV or folder)"
        )
    return [source]


def file_md5(path: Path) -> str:
    """The file's MD5, which is the hash DVC records for a single tracked file."""
    digest = hashlib.md5()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def source_version(files: list[Path]) -> str:
    """The data version of a raw source: the DVC md5 of its file, or a hash over its files' md5s."""
    if len(files) == 1:
        return file_md5(files[0])
    combined = hashlib.md5()
    for path in files:
        combined.update(f"{path.name}:{file_md5(path)}\n".encode())
    return combined.hexdigest()


def read_export(path: Path) -> pd.DataFrame:
    """One export as strings with canonical column names, plus the file and line each row came from."""
    frame = pd.read_csv(
        path,
        dtype=str,
        keep_default_na=False,  # an empty cell stays '' so validation can name it
        encoding="utf-8-sig",  # strips the BOM when there is one
        skipinitialspace=True,
    )
    found = [c.strip() for c in frame.columns]
    canonical = [schema.RAW_COLUMN_ALIASES.get(c) for c in found]
    if None in canonical or sorted(canonical) != sorted(RAW_VALUE_COLUMNS):
        raise schema.SchemaError(
            f"{path}: wrong columns. Expected {list(schema.RAW_COLUMNS)} "
            f"(or the '_Reactive_Power_' spelling of the lagging column), found {found}"
        )
    frame.columns = canonical
    frame = frame[list(RAW_VALUE_COLUMNS)]
    frame.insert(0, SOURCE_LINE, range(2, len(frame) + 2))  # line 1 is the header
    frame.insert(0, SOURCE_FILE, path.name)
    return frame


def read_raw(path: str | Path, config_key: str = "ENERGY_RAW_CSV") -> tuple[pd.DataFrame, str, list[Path]]:
    """All rows of the raw source as strings, its data version, and the files read."""
    files = source_files(path, config_key)
    frame = pd.concat([read_export(f) for f in files], ignore_index=True)
    return frame, source_version(files), files
