"""A real company reproduced: Shennan Circuits Co., Ltd. (深南电路股份有限公司, SZSE 002916),
a printed-circuit-board manufacturer with plants in two provinces (Shenzhen, Guangdong; Wuxi
and Nantong, Jiangsu), 2021 sustainability report (深南电路 2021 年可持续发展报告, 37 pages,
PDF created 2022-03-14), section 4.2.1 节能降耗, printed page 13.

Read from the copy of the PDF in the public repository ``wq624915051/CarbonInfoSystem``,
``data/002916_深南电路_2021.PDF`` (commit e13e2704d49b0ca311d8806bc62ff15794db735d, blob
661d24729ed5f52a40285ebd1e2cd3502928be2d), text by ``pdftotext -layout``. Page 13 says:

    2021 年，公司全年二氧化碳排放量为 264634.9tCO2。
    2021 年能耗数据表: 电（万千瓦时）41502.56; 天然气（万立方米）271.39; 汽油（吨）52;
    柴油（吨）4.1; 热力（百万千焦）339753.67; 合计（万吨标准煤）6.63

The quantities are entered as the company published them, in its own units (万千瓦时,
万立方米, 吨, 百万千焦), through the activity import template (``data/shennan_2021_*.csv``;
each row's note cites the page). The report gives the energy of the company as a whole, not
per plant, so the records sit at the parent entity.

What the report states and what it does not:

- **Energy (reproduced).** 6.63 万吨标准煤 is the GB/T 2589 sum with the equivalent-value
  electricity coefficient 0.1229 kgce/kWh, heat 0.03412 kgce/MJ and natural gas at the top of
  the standard's range, 1.33 kgce/m3 (the default, ``natural_gas_tce = high``): 66,291.0 tce.
  With the range's other common value, 1.2143, the sum is 65,977.0 tce = 6.60 万吨, which
  the report does not print: the company used 1.33.
- **CO2 (not reproducible: the report states no factor, no scope split and no method).** The
  test computes the company's CO2 with the choices a Chinese company reporting 2021 CO2 would
  make: ``ghg_basis = cn_guideline`` (CO2 only, the MEE guideline fuel parameters), purchased
  heat at the guideline's 0.11 tCO2/GJ, and, as the report gives no split of the electricity
  between its plants, the national grid factor of 2021 (MEE/NBS, 0.5568 tCO2/MWh: the
  electricity row names region ``CN``). It writes out the difference: 274,492 t computed
  against 264,634.9 t published, 3.7 % above. Holding scope 1 and heat as computed, the
  published total implies 0.5330 tCO2/MWh for the electricity, between the 2021 factors of
  the two provinces its plants are in (Guangdong 0.4715, Jiangsu 0.6451): the difference is
  the undisclosed electricity factor (a per-plant split, or a factor of the company's own
  choosing), which the report does not give.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

Run = Callable[..., str]


PUBLISHED_TCE_WAN = 6.63
PUBLISHED_CO2_T = 264_634.9
ELECTRICITY_KWH = 41_502.56e4
GAS_M3 = 271.39e4
GASOLINE_T, DIESEL_T = 52.0, 4.1
HEAT_GJ = 339_753.67  # 百万千焦 = 10^6 kJ = 1 GJ


@pytest.fixture(scope="module")
def ledger(company_ledger: Callable[..., str]) -> str:
    return company_ledger("shennan_2021", ("setting", "set", "ghg_basis", "cn_guideline"))


def _energy(ledger: str, esgledger: Run) -> dict[str, dict[str, float]]:
    out = json.loads(
        esgledger("energy", "--ledger", ledger, "--year", "2021", "--by", "activity", "--json")
    )
    return {row["activity_type"]: row for row in out["rows"]}


def test_the_published_energy_total_is_reproduced(ledger: str, esgledger: Run) -> None:
    rows = _energy(ledger, esgledger)
    # GB/T 2589: kgce per unit x quantity / 1000 = tce
    expected = {
        "electricity": ELECTRICITY_KWH * 0.1229 / 1000,  # 51,006.65
        "natural_gas": GAS_M3 * 1.33 / 1000,  # 3,609.49
        "gasoline_vehicle": GASOLINE_T * 1.4714,  # 76.51
        "diesel_stationary": DIESEL_T * 1.4571,  # 5.97
        "purchased_heat": HEAT_GJ * 1000 * 0.03412 / 1000,  # 11,592.40
    }
    for activity_type, tce in expected.items():
        assert rows[activity_type]["tce"] == pytest.approx(tce, rel=1e-9), activity_type
    total = sum(r["tce"] for r in rows.values())
    assert total == pytest.approx(66_291.02, abs=0.01)
    assert round(total / 1e4, 2) == PUBLISHED_TCE_WAN  # 6.6291 万吨 -> 6.63 as printed
    # the range's other common natural-gas value would have printed 6.60, not 6.63
    assert round((total - GAS_M3 * (1.33 - 1.2143) / 1000) / 1e4, 2) == 6.60


def test_the_co2_differs_by_the_undisclosed_electricity_factor(ledger: str, esgledger: Run) -> None:
    out = json.loads(esgledger("inventory", "--ledger", ledger, "--year", "2021", "--json"))
    scopes = {row["scope"]: row["tco2e"] for row in out["rows"]}
    assert [d["code"] for d in out["diagnostics"]] == ["ghg-basis"]  # no fallback, no gap
    # scope 1, CO2 only (cn_guideline): quantity x NCV x carbon per GJ x oxidation x 44/12
    gas = 271.39 * 389.31 * 0.0153 * 0.99 * 44 / 12  # 万Nm3 x GJ/万Nm3 x tC/GJ
    gasoline = GASOLINE_T * 43.070 * 0.0189 * 0.98 * 44 / 12
    diesel = DIESEL_T * 42.652 * 0.0202 * 0.98 * 44 / 12
    scope1 = gas + gasoline + diesel  # 5,868.0 + 152.1 + 12.7 = 6,032.8
    assert scopes[1] == pytest.approx(scope1, rel=1e-9)
    # scope 2: electricity x 0.5568 tCO2/MWh (national, 2021) + heat x 0.11 tCO2/GJ
    scope2 = ELECTRICITY_KWH / 1000 * 0.5568 + HEAT_GJ * 0.11  # 231,086.3 + 37,372.9
    assert scopes[2] == pytest.approx(scope2, rel=1e-9)
    computed = scope1 + scope2
    assert computed == pytest.approx(274_491.9, abs=0.1)
    # the difference, and the electricity factor the published figure implies
    assert (computed - PUBLISHED_CO2_T) / PUBLISHED_CO2_T == pytest.approx(0.0372, abs=0.0001)
    implied = (PUBLISHED_CO2_T - scope1 - HEAT_GJ * 0.11) / (ELECTRICITY_KWH / 1000)
    assert implied == pytest.approx(0.5330, abs=0.00005)
    assert 0.4715 < implied < 0.6451  # Guangdong's and Jiangsu's 2021 grid factors
