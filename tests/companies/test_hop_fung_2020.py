"""A real company reproduced: Hop Fung Group Holdings Limited (合豐集團控股有限公司, HKEX 2320),
a Hong Kong-listed paper manufacturer that burns coal and diesel, Annual Report 2020,
Environmental, Social and Governance Report, printed pages 35 (Figure II, "the sources and
emission volumes of GHG") and 38 (Figure III), read in the company's online annual report at
https://irasia.com/listco/hk/hopfung/onlinereport/2020/e_annual/37 and .../e_annual/40.

Figure II gives, for 2020 and 2019: diesel from stationary sources 154,578 | 197,132 litres;
gasoline from mobile sources 19,422 | 23,639 litres; business travel by passenger 3,708 |
241,206 km; coal from stationary sources 100,750 | 112,444 tonnes; diesel oil from mobile
sources 3,521 | 3,955 litres; electricity 54,813 | 52,796 kWh; total GHG emissions 174,199 |
174,542 tCO2e. It gives no scope split, no emission factor, no calorific value and no density.

The quantities are entered as published (litres, tonnes, kWh, km) through the activity
template (``data/hopfung_2020_*.csv``, each row citing the page). What the company did not
state is chosen and written here: densities at the mid-points of the fuel standards' ranges
(the only route from litres to the guidelines' per-tonne parameters), the generic raw-coal
parameters of the MEE guidelines (GB/T 32150), the national grid factor, flights for the
travel of unknown mode.

**Not reproduced, and why.** Computed 193,368.9 tCO2e for 2020 against 174,199 published,
11.0 % above; coal is 99.8 % of it. Holding every other source as computed, the published
total implies 1.724 tCO2e per tonne of coal in 2020 and 1.547 in 2019, against the guideline
default of 1.915 (raw coal: 20.908 GJ/t x 26.37 tC/TJ x 94 % oxidation x 44/12, with CH4 and
N2O). No single coal factor gives both years: the company used coal-specific values (its own
calorific value, the way GB/T 32150 allows, entered with ``esgledger fuel set``) that the
report does not disclose. The test holds the arithmetic of every source and the implied
factors, so a change in either side is seen.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

Run = Callable[..., str]

PUBLISHED = {2020: 174_199.0, 2019: 174_542.0}
COAL_T = {2020: 100_750.0, 2019: 112_444.0}
COAL_CO2_PER_T = 20.908 * 0.02637 * 0.94 * 44 / 12  # GJ/t x tC/GJ x oxidation x 44/12 = 1.9003


@pytest.fixture(scope="module")
def ledger(company_ledger: Callable[..., str]) -> str:
    densities = (
        ("density.diesel", "0.83", "GB 19147-2013 (0.810-0.850 kg/L at 20 C)"),
        ("density.gasoline", "0.7475", "GB 17930-2013 (0.720-0.775 kg/L at 20 C)"),
    )
    return company_ledger(
        "hopfung_2020",
        *(
            (
                "parameter",
                "set",
                name,
                value,
                "kg/L",
                "--source",
                f"mid-point of {standard}: the report gives litres and no density",
            )
            for name, value, standard in densities
        ),
    )


def _by_activity(ledger: str, year: int, esgledger: Run) -> dict[str, float]:
    out = json.loads(
        esgledger(
            "inventory", "--ledger", ledger, "--year", str(year), "--by", "activity", "--json"
        )
    )
    return {row["activity_type"]: row["tco2e"] for row in out["rows"]}


def test_the_coal_is_the_guideline_default_arithmetic(ledger: str, esgledger: Run) -> None:
    found = _by_activity(ledger, 2020, esgledger)
    assert round(COAL_CO2_PER_T, 4) == 1.9003  # the guideline table prints 1.9003 tCO2/t
    coal_co2 = COAL_T[2020] * COAL_CO2_PER_T  # 191,455.1
    # CH4 10 kg/TJ and N2O 1.5 kg/TJ (IPCC 2006 stationary combustion in manufacturing),
    # AR6 GWPs 27 and 273 (the ghg_protocol basis counts them): 568.7 + 862.6 t
    coal_tj = COAL_T[2020] * 20.908 / 1000
    coal_other = coal_tj * (10 * 27 + 1.5 * 273) / 1000
    assert found["raw_coal"] == pytest.approx(coal_co2 + coal_other, rel=1e-9)
    # diesel: 154,578 L x 0.83 kg/L = 128.30 t x 42.652 GJ/t x 20.2 tC/TJ x 98 % x 44/12
    diesel_tj = 154_578 * 0.83e-3 * 42.652 / 1000
    diesel_co2 = diesel_tj * 1000 * 0.0202 * 0.98 * 44 / 12  # 397.2
    diesel_other = diesel_tj * (3 * 27 + 0.6 * 273) / 1000  # CH4 3, N2O 0.6 kg/TJ
    assert found["diesel_stationary"] == pytest.approx(diesel_co2 + diesel_other, rel=1e-9)
    # purchased electricity: 54.813 MWh x 0.5568 (2021 national, the nearest year: a
    # factor-fallback warning says so)
    assert found["electricity"] == pytest.approx(54.813 * 0.5568, rel=1e-9)
    out = json.loads(esgledger("inventory", "--ledger", ledger, "--year", "2020", "--json"))
    fallbacks = [d["message"] for d in out["diagnostics"] if d["code"] == "factor-fallback"]
    assert any(m.startswith("electricity 2020") and "cn_2021_national" in m for m in fallbacks)


@pytest.mark.parametrize(("year", "implied"), [(2020, 1.7242), (2019, 1.5470)])
def test_the_difference_is_the_undisclosed_coal_factor(
    ledger: str, year: int, implied: float, esgledger: Run
) -> None:
    found = _by_activity(ledger, year, esgledger)
    total = sum(found.values())
    others = total - found["raw_coal"]
    # what the published total leaves for the coal, per tonne
    assert (PUBLISHED[year] - others) / COAL_T[year] == pytest.approx(implied, abs=5e-4)
    ours = found["raw_coal"] / COAL_T[year]
    assert ours == pytest.approx(1.9145, abs=5e-4)  # CO2 1.9003 + CH4 and N2O 0.0142
    if year == 2020:
        assert total == pytest.approx(193_368.9, abs=0.5)
        assert (total - PUBLISHED[year]) / PUBLISHED[year] == pytest.approx(0.110, abs=0.001)
        assert found["raw_coal"] / total > 0.997
