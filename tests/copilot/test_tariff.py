"""The tariff file: the default loads, a malformed one is refused naming the key, a user's own file is used."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from energy_assets.copilot import service
from energy_assets.copilot.errors import TariffError
from energy_assets.copilot.tariff import DEFAULT_TARIFF, TARIFF_ENV, load_tariff, parse_tariff


def _raw() -> dict:
    return yaml.safe_load(DEFAULT_TARIFF.read_text())


def test_the_default_is_kepco_2018_with_its_sources_and_a_content_hash(tariff):
    assert tariff.id == "kepco-2018-industrial-b-high-voltage-a-option-ii"
    assert tariff.currency == "KRW" and tariff.effective_from == "2013-11-21"
    assert tariff.label.startswith(f"{tariff.id}@2013-11-21#") and len(tariff.digest) == 64
    assert tariff.emission_tco2_per_mwh == pytest.approx(0.4594)
    for source in tariff.sources.values():
        assert source["url"] and source["date"]


def test_load_type_is_the_tou_period_on_every_day_that_is_not_all_light(clean, tariff):
    agreement = service.verify_periods(clean, tariff)
    assert agreement["agreement_on_other_days"] == 1.0
    assert agreement["mismatches_on_other_days"] == 0
    assert agreement["all_light_days"] > 0  # holidays and shutdowns: every interval Light_Load
    assert agreement["agreement"] < 1.0


@pytest.mark.parametrize(
    ("edit", "field"),
    [
        (lambda r: r.pop("demand_charge_krw_per_kw"), "demand_charge_krw_per_kw"),
        (
            lambda r: r["energy_rates_krw_per_kwh"]["winter"].update(peak="a lot"),
            "energy_rates_krw_per_kwh.winter.peak",
        ),
        (lambda r: r["energy_rates_krw_per_kwh"]["summer"].update(mid=-1), "energy_rates_krw_per_kwh.summer.mid"),
        (lambda r: r["periods"]["winter"].append([9, 11, "peak"]), "periods.winter[8]"),
        (lambda r: r["periods"]["summer"].pop(), "periods.summer"),
        (lambda r: r["periods"]["summer"][0].__setitem__(2, "shoulder"), "periods.summer[0]"),
        (lambda r: r["seasons"]["winter"].remove(12), "seasons"),
        (lambda r: r["seasons"]["summer"].append(1), "seasons.winter"),  # January, again
        (lambda r: r["power_factor"]["lagging"].update(reference_pct=120), "power_factor.lagging.reference_pct"),
        (lambda r: r["billing_demand"].update(demand_interval_minutes=30), "billing_demand.demand_interval_minutes"),
        (lambda r: r["emission_factor"].pop("tco2_per_mwh"), "emission_factor.tco2_per_mwh"),
        (lambda r: r.update(sources={}), "sources"),
    ],
)
def test_a_malformed_tariff_is_refused_naming_the_key(edit, field):
    raw = _raw()
    edit(raw)
    with pytest.raises(TariffError) as error:
        parse_tariff(raw)
    assert error.value.field == field
    assert str(error.value).startswith(field)


def test_unreadable_and_invalid_files_are_named(tmp_path: Path, monkeypatch):
    monkeypatch.setenv(TARIFF_ENV, str(tmp_path / "absent.yaml"))
    with pytest.raises(TariffError) as error:
        load_tariff()
    assert error.value.field == TARIFF_ENV and "absent.yaml" in str(error.value)
    broken = tmp_path / "broken.yaml"
    broken.write_text("id: [unclosed\n")
    with pytest.raises(TariffError) as error:
        load_tariff(broken)
    assert error.value.field == "<file>"


def test_a_users_own_tariff_file_is_used_and_versioned(tmp_path: Path, monkeypatch, priced):
    raw = _raw()
    raw["demand_charge_krw_per_kw"] = 10000
    own = tmp_path / "own.yaml"
    own.write_text(yaml.safe_dump(raw, allow_unicode=True))
    monkeypatch.setenv(TARIFF_ENV, str(own))
    mine = load_tariff()
    assert mine.demand_charge_per_kw == 10000 and mine.label != load_tariff(DEFAULT_TARIFF).label
    answer = service.bill(priced, "2018-03")  # priced with the default: re-priced under the user's tariff
    assert answer["tariff"]["tariff_version"] == mine.label
    assert answer["bill"]["demand_charge"] == pytest.approx(answer["bill"]["billing_demand_kw"] * 10000, abs=0.01)
