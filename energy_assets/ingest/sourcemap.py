"""Source maps: how an export of another shape maps onto the canonical reading, without code changes.

A source map is a small YAML file, named by the run config (`ops.raw_readings.config.source_map`)
or env `ENERGY_SOURCE_MAP`. The bundled UCI export needs none: `UCI` below is its built-in map.

```yaml
columns:                      # export header -> canonical name (energy_assets.schema.COLUMNS)
  Zeitstempel: timestamp
  Wirkenergie_Wh: usage_kwh
  ...                         # every canonical column must be mapped once
date_formats: ["%Y-%m-%dT%H:%M"]   # strptime formats, tried in order
midnight: next_day            # next_day: 00:00 is dated the day it opens; previous_day: the UCI quirk
decimal: ","                  # '.' or ','
delimiter: ";"                # the CSV field separator
timezone: Europe/Berlin       # the export's clock; converted to the plant's (schema.PLANT_TIMEZONE)
units:                        # per numeric column, one of schema.UNITS[column]
  usage_kwh: Wh
  lagging_power_factor: fraction
```

Every key but `columns` is optional and defaults to the UCI export's convention.
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn

import yaml

from energy_assets import schema

MIDNIGHT_CONVENTIONS = ("previous_day", "next_day")
KEYS = ("columns", "date_formats", "midnight", "decimal", "delimiter", "timezone", "units")
CANONICAL_UNITS: dict[str, str] = {name: next(iter(units)) for name, units in schema.UNITS.items()}


class SourceMapError(ValueError):
    """A source map file is unreadable or wrong; the message names the file and the key."""


@dataclass(frozen=True)
class SourceMap:
    columns: dict[str, str]  # export header -> canonical column
    date_formats: tuple[str, ...] = schema.RAW_DATE_FORMATS
    midnight: str = "previous_day"
    decimal: str = "."
    delimiter: str = ","
    timezone: str = schema.PLANT_TIMEZONE
    units: dict[str, str] = field(default_factory=lambda: dict(CANONICAL_UNITS))
    origin: str = "the built-in map of the UCI export"

    def scale(self, column: str) -> float:
        """Factor from the export's unit of `column` to the canonical unit."""
        return schema.UNITS[column][self.units.get(column, CANONICAL_UNITS[column])]

    def expected_headers(self) -> list[str]:
        """The export headers this map expects, one per canonical column (the first spelling)."""
        first: dict[str, str] = {}
        for header, canonical in self.columns.items():
            first.setdefault(canonical, header)
        return [first[c] for c in schema.COLUMNS if c in first]

    def as_dict(self) -> dict:
        """Plain types, to travel with the raw rows (DataFrame.attrs, stored in their Parquet file)."""
        return {
            "columns": dict(self.columns),
            "date_formats": list(self.date_formats),
            "midnight": self.midnight,
            "decimal": self.decimal,
            "delimiter": self.delimiter,
            "timezone": self.timezone,
            "units": dict(self.units),
            "origin": self.origin,
        }

    @classmethod
    def from_dict(cls, data: dict) -> SourceMap:
        return cls(
            columns=dict(data["columns"]),
            date_formats=tuple(data["date_formats"]),
            midnight=data["midnight"],
            decimal=data["decimal"],
            delimiter=data["delimiter"],
            timezone=data["timezone"],
            units=dict(data["units"]),
            origin=data.get("origin", "stored map"),
        )


UCI = SourceMap(columns=dict(schema.RAW_COLUMN_ALIASES))


def load_source_map(path: str | Path | None, config_key: str = "ENERGY_SOURCE_MAP") -> SourceMap:
    """The map in the YAML file `path`; with no path, the built-in UCI map."""
    if not path:
        return UCI
    source = Path(path)
    where = f"source map {source} (config key '{config_key}')"
    try:
        data = yaml.safe_load(source.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SourceMapError(f"{where}: file not found") from None
    except (OSError, yaml.YAMLError) as error:
        raise SourceMapError(f"{where}: not a readable YAML file: {error}") from None
    if not isinstance(data, dict):
        raise SourceMapError(f"{where}: must be a mapping with the keys {list(KEYS)}")
    unknown = sorted(set(data) - set(KEYS))
    if unknown:
        raise SourceMapError(f"{where}: unknown keys {unknown}; allowed keys are {list(KEYS)}")

    def fail(key: str, message: str) -> NoReturn:
        raise SourceMapError(f"{where}: key '{key}' {message}")

    columns = data.get("columns")
    if not isinstance(columns, dict) or not columns:
        fail("columns", "must map the export's headers to canonical names")
    columns = {str(k).strip(): v for k, v in columns.items()}
    wrong = {k: v for k, v in columns.items() if v not in schema.COLUMNS}
    if wrong:
        fail("columns", f"maps to unknown canonical names {wrong}; canonical names are {list(schema.COLUMNS)}")
    unmapped = [c for c in schema.COLUMNS if c not in columns.values()]
    if unmapped:
        fail("columns", f"maps no header to {unmapped}")

    formats = data.get("date_formats", list(schema.RAW_DATE_FORMATS))
    if isinstance(formats, str):
        formats = [formats]
    if not isinstance(formats, list) or not formats or not all(isinstance(f, str) and "%" in f for f in formats):
        fail("date_formats", f"must be a list of strptime formats such as '%Y-%m-%d %H:%M', got {formats!r}")

    midnight = data.get("midnight", "previous_day")
    if midnight not in MIDNIGHT_CONVENTIONS:
        fail("midnight", f"must be one of {list(MIDNIGHT_CONVENTIONS)}, got {midnight!r}")
    decimal = data.get("decimal", ".")
    if decimal not in (".", ","):
        fail("decimal", f"must be '.' or ',', got {decimal!r}")
    delimiter = data.get("delimiter", ",")
    if not isinstance(delimiter, str) or len(delimiter) != 1 or delimiter == decimal:
        fail("delimiter", f"must be one character other than the decimal separator, got {delimiter!r}")
    timezone = data.get("timezone", schema.PLANT_TIMEZONE)
    try:
        zoneinfo.ZoneInfo(str(timezone))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        fail("timezone", f"is not an IANA time zone such as 'Asia/Seoul' or 'UTC', got {timezone!r}")

    units = dict(CANONICAL_UNITS)
    given = data.get("units", {}) or {}
    if not isinstance(given, dict):
        fail("units", "must map canonical numeric columns to units")
    for column, unit in given.items():
        if column not in schema.UNITS:
            fail(f"units.{column}", f"is not a numeric canonical column; those are {list(schema.UNITS)}")
        if unit not in schema.UNITS[column]:
            fail(f"units.{column}", f"must be one of {list(schema.UNITS[column])}, got {unit!r}")
        units[column] = unit
    return SourceMap(
        columns=columns,
        date_formats=tuple(formats),
        midnight=midnight,
        decimal=decimal,
        delimiter=delimiter,
        timezone=str(timezone),
        units=units,
        origin=str(source),
    )
