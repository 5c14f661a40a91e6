"""Registered model names per site.

The bundled site (`ids.DEFAULT_SITE`) keeps the names in `energy_assets.settings`
(`energy-usage-estimator`, `energy-day-ahead-forecaster`), so its registry, champions and every
client that names them are unchanged. Any other site's model is `<name>--<site id>`, e.g.
`energy-usage-estimator--plant-b2`: a suffix keeps one model kind's names together in a sorted
listing, and '--' cannot occur inside a site id, so the site reads back without ambiguity. MLflow
forbids only '/' and ':' in a model name; a site id holds neither.
"""

from __future__ import annotations

from energy_assets.settings import ESTIMATOR_MODEL_NAME, FORECASTER_MODEL_NAME
from energy_assets.sites.ids import DEFAULT_SITE, check_site_id

SEPARATOR = "--"
BASE_NAMES: tuple[str, ...] = (ESTIMATOR_MODEL_NAME, FORECASTER_MODEL_NAME)


def model_name(base: str, site: str = DEFAULT_SITE) -> str:
    """The registered name of model `base` (one of BASE_NAMES) for `site`."""
    if base not in BASE_NAMES:
        raise ValueError(f"unknown model {base!r}; the registered models are {list(BASE_NAMES)}")
    check_site_id(site)
    return base if site == DEFAULT_SITE else f"{base}{SEPARATOR}{site}"


def estimator_model_name(site: str = DEFAULT_SITE) -> str:
    return model_name(ESTIMATOR_MODEL_NAME, site)


def forecaster_model_name(site: str = DEFAULT_SITE) -> str:
    return model_name(FORECASTER_MODEL_NAME, site)


def split_model_name(name: str) -> tuple[str, str]:
    """(base model name, site id) of a registered name; ValueError if it is none of the project's."""
    base, separator, site = name.partition(SEPARATOR)
    if base not in BASE_NAMES or (separator and not site):
        raise ValueError(f"{name!r} is not a registered model name of this project (bases {list(BASE_NAMES)})")
    if not separator:
        return base, DEFAULT_SITE
    check_site_id(site, f"model name {name!r}")
    if site == DEFAULT_SITE:
        raise ValueError(f"{name!r}: the site {DEFAULT_SITE!r} is registered as {base!r}, without a suffix")
    return base, site
