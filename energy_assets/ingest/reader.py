"""Reading the plant's CSV exports into a raw table of strings, one row per data line.

Nothing is parsed or fixed here: every value stays the text the meter export wrote, so the
validation step can reject a row with the exact text that was wrong. Accepted variants: with or
without a UTF-8 BOM, CRLF or LF line ends, both spellings of the lagging reactive power column,
extra columns (ignored and reported), and other shapes described by a source map (`sourcemap`).
"""

from __future__ import annotations

import codecs
import hashlib
import io
from pathlib import Path

import pandas as pd

from energy_assets import schema
from energy_assets.ingest.sourcemap import UCI, SourceMap

SOURCE_FILE = "source_file"
SOURCE_LINE = "source_line"
RAW_VALUE_COLUMNS: tuple[str, ...] = schema.COLUMNS
# Keys of DataFrame.attrs that travel with the rows (stored in their Parquet files).
DATA_VERSION = "data_version"
SOURCE_MAP = "source_map"
SOURCE_MAP_KEY = "ENERGY_SOURCE_MAP"


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


def combine_versions(versions: dict[str, str | None]) -> str:
    """One md5 standing for several named versions (files of a source, partitions of a table)."""
    combined = hashlib.md5()
    for name, version in versions.items():
        combined.update(f"{name}:{version}\n".encode())
    return combined.hexdigest()


def source_version(files: list[Path]) -> str:
    """The data version of a raw source: the DVC md5 of its file, or a hash over its files' md5s."""
    if len(files) == 1:
        return file_md5(files[0])
    return combine_versions({path.name: file_md5(path) for path in files})


def read_export(path: Path, source_map: SourceMap = UCI, map_key: str = SOURCE_MAP_KEY) -> pd.DataFrame:
    """One export as strings with canonical column names, plus the file and line each row came from.

    Headers are matched after trimming spaces; columns the map does not name are ignored and listed
    in `frame.attrs["extra_columns"]`. A BOM and CRLF line ends are read as such and listed in
    `frame.attrs["file_formatting"]`; cell text is kept exactly as written.
    """
    data = Path(path).read_bytes()
    formatting = [
        kind
        for kind, present in (("BOM", data.startswith(codecs.BOM_UTF8)), ("CRLF line ends", b"\r\n" in data))
        if present
    ]
    frame = pd.read_csv(
        io.BytesIO(data),
        dtype=str,
        keep_default_na=False,  # an empty cell stays '' so validation can name it
        encoding="utf-8-sig",  # strips the BOM when there is one
        sep=source_map.delimiter,
    )
    found = [str(c) for c in frame.columns]
    canonical = [source_map.columns.get(c.strip()) for c in found]
    mapped = [c for c in canonical if c is not None]
    missing = [c for c in RAW_VALUE_COLUMNS if c not in mapped]
    twice = sorted({c for c in mapped if mapped.count(c) > 1})
    if missing or twice:
        problem = f"missing columns for {missing}" if missing else f"several columns map to {twice}"
        raise schema.SchemaError(
            f"{path}: wrong columns ({problem}). Expected {source_map.expected_headers()} "
            f"({source_map.origin}), found {found}. Describe the export's headers in a source map "
            f"(config key '{map_key}')"
        )
    extra = [c for c, name in zip(found, canonical, strict=True) if name is None]
    frame.columns = [name or f"extra:{c}" for c, name in zip(found, canonical, strict=True)]
    frame = frame[list(RAW_VALUE_COLUMNS)].copy()
    frame.insert(0, SOURCE_LINE, range(2, len(frame) + 2))  # line 1 is the header
    frame.insert(0, SOURCE_FILE, Path(path).name)
    frame.attrs = {
        "extra_columns": {Path(path).name: extra} if extra else {},
        "file_formatting": {Path(path).name: formatting} if formatting else {},
    }
    return frame


def read_raw(
    path: str | Path,
    config_key: str = "ENERGY_RAW_CSV",
    source_map: SourceMap = UCI,
    map_key: str = SOURCE_MAP_KEY,
) -> tuple[pd.DataFrame, str, list[Path]]:
    """All rows of the raw source as strings, its data version, and the files read.

    `frame.attrs` carries what belongs with the rows: the data version, the source map that says
    how to read them, extra columns and file formatting (BOM, CRLF) per file.
    """
    files = source_files(path, config_key)
    frames = [read_export(f, source_map, map_key) for f in files]
    frame = pd.concat(frames, ignore_index=True)
    version = source_version(files)
    frame.attrs = {
        DATA_VERSION: version,
        SOURCE_MAP: source_map.as_dict(),
        "extra_columns": {k: v for f in frames for k, v in f.attrs["extra_columns"].items()},
        "file_formatting": {k: v for f in frames for k, v in f.attrs["file_formatting"].items()},
    }
    return frame, version, files
