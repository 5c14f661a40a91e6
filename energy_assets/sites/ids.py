"""The site id rule: a lowercase slug, so an id is also a valid folder name, MLflow model name suffix
and Dagster partition key, and reads the same everywhere it appears."""

from __future__ import annotations

import re

# The bundled UCI export's plant. Its exports sit directly in the raw area (today's layout), and
# its models keep the names they had before sites existed (`naming`).
DEFAULT_SITE = "uci-steel"
MAX_LENGTH = 40
# Letters and digits in groups joined by single hyphens: no '--', so `naming` can use '--' as
# the separator between a model's name and its site and split it back unambiguously.
SITE_ID_PATTERN = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*")
RULE = (
    f"a site id is 1-{MAX_LENGTH} characters: lowercase letters and digits in groups joined by single "
    "hyphens, starting with a letter (e.g. 'plant-b2')"
)


class SiteIdError(ValueError):
    """A site id breaks the rule; the message names where the id came from."""


def check_site_id(value: object, where: str = "site id") -> str:
    """`value` if it is a valid site id, else SiteIdError naming `where` (a folder, a config key)."""
    if not isinstance(value, str) or len(value) > MAX_LENGTH or not SITE_ID_PATTERN.fullmatch(value):
        raise SiteIdError(f"{where}: {value!r} is not a valid site id; {RULE}")
    return value
