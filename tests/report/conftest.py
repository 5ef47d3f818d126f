"""The sample report of the renderer tests (HTML, PDF, charts): ``sample_report(lang)``.

A small tree in Chinese or English: three levels of sections, a narrative with bold text, a
figure list, a table with figure cells (one missing), the emissions chart (five years of
scopes 1, 2 and 3 stacked, the intensity as a line on the right axis), an energy-mix pie and a
workforce bar chart, the GRI and SZSE No. 17 content indexes, gaps, methodology items and the
build facts."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from esgledger.report.indexes import new_index
from esgledger.report.model import (
    Chart,
    Figure,
    FigureList,
    Gap,
    IndexRow,
    Lang,
    MethodologyItem,
    Narrative,
    Report,
    Section,
    Series,
    Table,
)

YEARS = (2020, 2021, 2022, 2023, 2024)
SCOPE1 = (3861.25, 4012.6, 4130.18, 4301.09, 4472.7)
SCOPE2 = (21544.3, 22980.45, 23811.02, 24014.98, 26911.37)
SCOPE3 = (412.5, 455.8, 498.12, 530.66, 540.94)
INTENSITY = (0.0121, 0.0117, 0.0112, 0.0106, 0.0102)
MIX = (("gasoline", 310.42), ("natural_gas", 95.13), ("electricity", 5175.32))

WORDS: dict[str, dict[str, str]] = {
    "zh": {
        "title": "2024年可持续发展报告",
        "org": "种子集团股份有限公司",
        "about": "关于本报告",
        "environment": "环境",
        "climate": "气候行动",
        "energy": "能源管理",
        "people": "员工发展",
        "about_text": "本报告是公司年度**环境、社会及治理**报告。\n\n报告范围涵盖公司及其子公司。",
        "climate_text": "公司持续推进**节能降碳**，温室气体排放强度逐年下降。",
        "highlights": "年度关键数据",
        "ghg_table": "历年温室气体排放",
        "ghg_chart": "分范围温室气体排放及排放强度",
        "mix": "能源消费结构",
        "gender": "按性别划分的员工",
        "scope1": "范围一",
        "scope2": "范围二（基于位置）",
        "scope3": "范围三",
        "intensity": "排放强度",
        "tco2e": "吨二氧化碳当量",
        "tce": "吨标准煤",
        "intensity_unit": "吨二氧化碳当量/万元",
        "persons": "人",
        "year": "年份",
        "total": "温室气体排放总量",
        "headcount": "员工总数",
        "gasoline": "汽油",
        "natural_gas": "天然气",
        "electricity": "外购电力",
        "energy_total": "综合能源消耗量",
        "women": "女性",
        "men": "男性",
        "note": "范围二按基于位置的方法计算。",
        "gri_title": "直接（范围一）温室气体排放",
        "szse_topic": "应对气候变化",
        "four": "治理、战略、影响风险和机遇管理、指标与目标",
        "disclosed": "已披露",
        "gap": "缺失",
        "mandatory": "强制披露",
        "no_data": "台账无该指标数据",
        "not_applicable": "不适用",
        "omission_reason": "公司无相关业务",
        "method_topic": "温室气体核算",
        "method_text": "依据 ISO 14064-1 及**温室气体核算体系**核算范围一、二、三排放。",
    },
    "en": {
        "title": "2024 Sustainability Report",
        "org": "Seed Group Co., Ltd.",
        "about": "About this report",
        "environment": "Environment",
        "climate": "Climate action",
        "energy": "Energy management",
        "people": "Our people",
        "about_text": "This is the company's annual **ESG** report.\n\nIt covers the company "
        "and its subsidiaries.",
        "climate_text": "We keep **cutting carbon**: the emission intensity falls every year.",
        "highlights": "Our year in figures",
        "ghg_table": "Greenhouse gas emissions by year",
        "ghg_chart": "Greenhouse gas emissions by scope, with intensity",
        "mix": "Energy mix",
        "gender": "Employees by gender",
        "scope1": "Scope 1",
        "scope2": "Scope 2 (location-based)",
        "scope3": "Scope 3",
        "intensity": "Intensity",
        "tco2e": "tCO2e",
        "tce": "tce",
        "intensity_unit": "tCO2e per 10k CNY",
        "persons": "persons",
        "year": "Year",
        "total": "Total GHG emissions",
        "headcount": "Employees",
        "gasoline": "Gasoline",
        "natural_gas": "Natural gas",
        "electricity": "Purchased electricity",
        "energy_total": "Total energy consumption",
        "women": "Women",
        "men": "Men",
        "note": "Scope 2 is location-based.",
        "gri_title": "Direct (Scope 1) GHG emissions",
        "szse_topic": "Climate change",
        "four": "governance; strategy; impact, risk and opportunity management; metrics",
        "disclosed": "disclosed",
        "gap": "gap",
        "mandatory": "mandatory",
        "no_data": "the ledger has no figure",
        "not_applicable": "not applicable",
        "omission_reason": "no such business",
        "method_topic": "GHG accounting",
        "method_text": "Scopes 1, 2 and 3 follow ISO 14064-1 and the **GHG Protocol**.",
    },
}


def _fig(value: float | None, unit: str, precision: int, lineage: str, label: str) -> Figure:
    metric = lineage.split(":")[2] if lineage.startswith("metric:") else None
    return Figure(value, unit, precision, lineage, label, metric, "computed")


def make_report(lang: Lang) -> Report:
    """The sample report in ``lang`` (see the module doc)."""
    w = WORDS[lang]
    scopes = (("S1", "scope1", SCOPE1), ("S2L", "scope2", SCOPE2), ("S3", "scope3", SCOPE3))
    by_scope = {
        code: tuple(
            _fig(v, w["tco2e"], 2, f"ghg:{y}:{code}", w[key])
            for y, v in zip(YEARS, values, strict=True)
        )
        for code, key, values in scopes
    }
    intensity = tuple(
        _fig(v, w["intensity_unit"], 4, f"metric:{y}:ghg.intensity_revenue", w["intensity"])
        for y, v in zip(YEARS, INTENSITY, strict=True)
    )
    total = _fig(31925.01, w["tco2e"], 2, "metric:2024:ghg.total", w["total"])
    headcount = _fig(1234, w["persons"], 0, "metric:2024:workforce.headcount", w["headcount"])
    energy = _fig(5580.87, w["tce"], 2, "metric:2024:energy.total_tce", w["energy_total"])
    chart = Chart(
        "ghg_chart",
        "stacked_bar_line",
        w["ghg_chart"],
        tuple(str(y) for y in YEARS),
        (
            *(Series(w[key], by_scope[code], "bar", stack="ghg") for code, key, _ in scopes),
            Series(w["intensity"], intensity, "line", axis="right"),
        ),
        y_label=w["tco2e"],
        y2_label=w["intensity_unit"],
    )
    table = Table(
        "ghg_table",
        w["ghg_table"],
        (w["year"], *(f"{w[key]} ({w['tco2e']})" for _, key, _ in scopes)),
        (
            (
                "2022",
                _fig(None, w["tco2e"], 2, "ghg:2022:S1", w["scope1"]),
                by_scope["S2L"][2],
                by_scope["S3"][2],
            ),
            *(
                (str(y), *(by_scope[code][i] for code, _, _ in scopes))
                for i, y in enumerate(YEARS[-2:], start=len(YEARS) - 2)
            ),
        ),
        notes=(w["note"],),
        sheet="E",
    )
    mix = Chart(
        "energy_mix",
        "pie",
        w["mix"],
        tuple(w[key] for key, _ in MIX),
        (
            Series(
                w["energy_total"],
                tuple(_fig(v, w["tce"], 2, "energy:2024", w[key]) for key, v in MIX),
                "pie",
            ),
        ),
        y_label=w["tce"],
    )
    gender = Chart(
        "gender",
        "bar",
        w["gender"],
        (w["women"], w["men"]),
        (
            Series(
                w["headcount"],
                (
                    _fig(
                        500, w["persons"], 0, "metric:2024:workforce.headcount.female", w["women"]
                    ),
                    _fig(734, w["persons"], 0, "metric:2024:workforce.headcount.male", w["men"]),
                ),
            ),
        ),
        y_label=w["persons"],
    )
    sections = (
        Section(
            "about",
            "1",
            w["about"],
            1,
            framework_refs=(("gri", "2-2"),),
            blocks=(
                Narrative("about.text", w["about_text"]),
                FigureList("highlights", w["highlights"], (total, energy, headcount)),
            ),
        ),
        Section(
            "environment",
            "2",
            w["environment"],
            1,
            children=(
                Section(
                    "climate",
                    "2.1",
                    w["climate"],
                    2,
                    framework_refs=(("gri", "305-1"), ("gri", "305-2"), ("szse17", "21")),
                    blocks=(Narrative("climate.text", w["climate_text"]), chart, table),
                    children=(Section("energy", "2.1.1", w["energy"], 3, blocks=(mix,)),),
                ),
            ),
        ),
        Section("people", "3", w["people"], 1, blocks=(gender,)),
    )
    return Report(
        year=2024,
        lang=lang,
        title=w["title"],
        organisation=w["org"],
        sections=sections,
        indexes=(
            new_index(
                "gri",
                lang,
                (
                    IndexRow("2-2", w["about"], (f"1 {w['about']}",)),
                    IndexRow(
                        "305-1", w["gri_title"], (f"2.1 {w['climate']}", f"2.1.1 {w['energy']}")
                    ),
                    IndexRow(
                        "305-5", w["gri_title"], (), w["not_applicable"], w["omission_reason"]
                    ),
                ),
            ),
            new_index(
                "szse17",
                lang,
                (
                    IndexRow(
                        "21",
                        w["szse_topic"],
                        (f"2.1 {w['climate']}",),
                        four_elements=w["four"],
                        status=w["disclosed"],
                        level=w["mandatory"],
                    ),
                    IndexRow(
                        "22",
                        w["energy"],
                        (),
                        reason=w["no_data"],
                        status=w["gap"],
                        level=w["mandatory"],
                    ),
                ),
            ),
        ),
        gaps=(Gap("SZSE", "22", w["no_data"], "energy.total_tce"),),
        methodology=(MethodologyItem(w["method_topic"], w["method_text"], ("IPCC AR6",)),),
        meta={
            "data_version": "3 batches, sha256 9f2c1e",
            "factor_library": "2024.1 (a1b2c3d4)",
            "built_at": "2025-03-01T08:00:00Z",
        },
    )


@pytest.fixture(scope="session")
def sample_report() -> Callable[[Lang], Report]:
    """A function giving the sample report in a language (``sample_report("zh")``)."""
    return make_report
