"""The sites of a raw area, discovered from its folders.

```
data/raw/                       the raw area (ENERGY_RAW_CSV)
  steel_industry_energy.csv     exports directly in the area: the bundled site, `uci-steel`
  plant-b2/                     one folder per other site, named by its site id
    2024-01.csv  2024-02.csv    its exports (*.csv)
    source_map.yaml             optional: the shape of its exports (ingest/sourcemap.py)
    site.yaml                   optional: metadata, e.g. `synthetic: true` (synthetic.py)
```

A raw area with only CSV files is today's layout and yields the bundled site alone. Hidden
folders (`.cache/`) are skipped; any other folder must be a site: a valid id and at least one
export, or discovery fails naming the folder.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import yaml

from energy_assets.ingest import reader
from energy_assets.ingest.sourcemap import SourceMap, load_source_map
from energy_assets.sites.ids import DEFAULT_SITE, SiteIdError, check_site_id

SOURCE_MAP_FILE = "source_map.yaml"
METADATA_FILE = "site.yaml"
SYNTHETIC = "synthetic"


class SiteError(ValueError):
    """A raw area's folder is not a readable site; the message names the folder or file."""


@dataclass(frozen=True)
class Site:
    id: str
    source: Path  # what `reader.read_raw` reads: the site folder, the raw area (flat exports) or one file
    files: tuple[Path, ...]
    source_map_path: Path | None = None  # None: the configured map (ENERGY_SOURCE_MAP) or the UCI one
    metadata: dict = field(default_factory=dict)

    @property
    def synthetic(self) -> bool:
        return bool(self.metadata.get(SYNTHETIC, False))

    def source_map(self) -> SourceMap | None:
        """The site's own map, if its folder has one."""
        if self.source_map_path is None:
            return None
        return load_source_map(self.source_map_path, config_key=f"site '{self.id}' {SOURCE_MAP_FILE}")


def discover_sites(raw_area: str | Path) -> list[Site]:
    """Every site of `raw_area`, the bundled site first (if it has exports), then the others by id.

    `raw_area` may also be a single export file (ENERGY_RAW_CSV pointing at a file): the bundled site.
    """
    area = Path(raw_area)
    if area.is_file():
        return [Site(DEFAULT_SITE, area, (area,))]
    if not area.is_dir():
        raise SiteError(f"raw area {area} does not exist (config key 'ENERGY_RAW_CSV')")
    sites: list[Site] = []
    flat = tuple(sorted(p for p in area.glob("*.csv") if p.is_file()))
    if flat:
        sites.append(Site(DEFAULT_SITE, area, flat))
    folders = sorted(p for p in area.iterdir() if p.is_dir() and not p.name.startswith("."))
    sites.extend(_site_of_folder(folder, flat_default=bool(flat)) for folder in folders)
    if not sites:
        raise SiteError(f"raw area {area} holds no export (*.csv) and no site folder")
    return sites


def _site_of_folder(folder: Path, flat_default: bool) -> Site:
    try:
        site_id = check_site_id(folder.name, f"site folder {folder}")
    except SiteIdError as error:
        raise SiteError(str(error)) from None
    if site_id == DEFAULT_SITE and flat_default:
        raise SiteError(
            f"site folder {folder}: the site {DEFAULT_SITE!r} already has the exports directly in "
            f"{folder.parent}; keep them in one place"
        )
    files = tuple(sorted(p for p in folder.glob("*.csv") if p.is_file()))
    if not files:
        raise SiteError(f"site folder {folder} holds no export (*.csv)")
    metadata = _metadata(folder / METADATA_FILE)
    if site_id == DEFAULT_SITE and metadata.get(SYNTHETIC):
        raise SiteError(f"{folder / METADATA_FILE}: the bundled site {DEFAULT_SITE!r} cannot be synthetic")
    source_map = folder / SOURCE_MAP_FILE
    return Site(site_id, folder, files, source_map if source_map.is_file() else None, metadata)


def _metadata(path: Path) -> dict:
    if not path.is_file():
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise SiteError(f"{path}: not a readable YAML file: {error}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise SiteError(f"{path}: must be a mapping (e.g. 'synthetic: true')")
    if not isinstance(data.get(SYNTHETIC, False), bool):
        raise SiteError(f"{path}: key '{SYNTHETIC}' must be true or false, got {data[SYNTHETIC]!r}")
    return data


def real_sites(sites: list[Site]) -> list[Site]:
    """The sites whose exports are a plant's own: what models and reports of real sites may read."""
    return [site for site in sites if not site.synthetic]


def read_site(site: Site, source_map: SourceMap | None = None) -> tuple[pd.DataFrame, str, list[Path]]:
    """The site's raw rows, data version and files (`reader.read_raw` over its exports).

    The site's own source_map.yaml wins; else `source_map` (the configured one); else the UCI map.
    """
    mapping = site.source_map() or source_map
    key = f"site '{site.id}' ({site.source})"
    if mapping is None:
        return reader.read_raw(site.source, config_key=key)
    return reader.read_raw(site.source, config_key=key, source_map=mapping)
