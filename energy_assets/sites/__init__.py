"""The fleet: which sites a raw area holds, how each is named, and synthetic sites for benchmarks.

- `ids`: the site id rule (a lowercase slug) and the bundled plant's id, `uci-steel`;
- `registry`: discovering the sites of a raw area (one folder per site, plus the flat area's own
  exports, which are the bundled site's) and reading a site's exports;
- `naming`: the registered model names of a site (the bundled site keeps today's names);
- `synthetic`: sites derived from the bundled plant (shifted, scaled, noised, marked synthetic).

Free of Dagster and Prefect, like every domain package (tests/test_layering.py).
"""
