"""The methodology appendix of the demo ledger's 2024 report names what the inventory used."""

from __future__ import annotations

import csv
import re
import string
from collections.abc import Iterator
from pathlib import Path

import pytest

from esgledger import service
from esgledger.calc import InventoryResult
from esgledger.demo import build_demo
from esgledger.factors import load_library
from esgledger.report import methodology as module
from esgledger.report.methodology import methodology, texts
from esgledger.report.model import MethodologyItem
from esgledger.store.ledger import Ledger

YEAR = 2024
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def ledger(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ledger]:
    built, reports = build_demo(tmp_path_factory.mktemp("methodology") / "demo.db")
    assert all(r.ok for r in reports), [str(d) for r in reports for d in r.diagnostics]
    yield built
    built.close()


@pytest.fixture(scope="module")
def result(ledger: Ledger) -> InventoryResult:
    return service.run_inventory(ledger, service.settings_from_ledger(ledger))


@pytest.fixture(scope="module")
def appendix(ledger: Ledger, result: InventoryResult) -> dict[str, tuple[MethodologyItem, ...]]:
    return {lang: methodology(ledger, YEAR, lang, result=result) for lang in ("en", "zh")}


def whole(items: tuple[MethodologyItem, ...]) -> str:
    return "\n".join(f"{i.topic}\n{i.text}\n{' '.join(i.sources)}" for i in items)


def item(
    items: tuple[MethodologyItem, ...], key: str, lang: str, **values: object
) -> MethodologyItem:
    topic = texts()[key][lang].format(**values)
    return next(i for i in items if i.topic == topic)


def test_names_the_mee_nbs_national_electricity_factor_actually_used(
    appendix: dict[str, tuple[MethodologyItem, ...]], result: InventoryResult
) -> None:
    lines = result.lines[(result.lines["year"] == YEAR) & (result.lines["scope"] == 2)]
    location = set(lines.loc[lines["basis"] == "location", "factor_id"])
    assert location == {"cn_2022_national"}  # grid_level national, factors as of 2025-03-31
    factors = load_library().emission_factors.set_index("factor_id")
    row = factors.loc["cn_2022_national"]
    for lang, items in appendix.items():
        name = load_library().activity_types.loc["electricity", f"name_{lang}"]
        text = item(items, "topic.factors", lang, activity=name).text
        assert "cn_2022_national" in text
        assert "生态环境部 (MEE) & 国家统计局 (NBS)" in text
        assert f"{row['value']:.10g} {row['unit']}" in text
        assert str(row["year"]) in text and str(row["pack"]) in text
        assert "cn_2022_excl_mkt_nonfossil" in item(items, "topic.scope2", lang).text


def test_every_factor_of_the_year_appears_with_its_value_source(
    appendix: dict[str, tuple[MethodologyItem, ...]], result: InventoryResult
) -> None:
    lines = result.lines[(result.lines["year"] == YEAR) & (result.lines["method"] != "direct")]
    used = set(lines["factor_id"])
    assert {"cn_ng", "ipcc_st_ng", "cn_gasoline"} <= used
    for items in appendix.values():
        text = whole(items)
        assert all(factor_id in text for factor_id in used)
        assert "NCV 389.31 GJ/10^4 Nm3" in text  # the resolved formula, from fuel_parameters
        assert "density 0.73 kg/L" in text  # the conversion route, from the ledger's parameter


def test_names_the_gwp_set_with_the_values_applied(
    appendix: dict[str, tuple[MethodologyItem, ...]], result: InventoryResult
) -> None:
    lines = result.lines[(result.lines["year"] == YEAR) & (result.lines["method"] != "direct")]
    for lang, items in appendix.items():
        gwp = item(items, "topic.gwp", lang).text
        assert result.settings.gwp_set == "AR6" and "AR6" in gwp
        for value in set(lines["gwp"]):
            assert f" {float(value):.10g}" in gwp
    assert "二氧化碳" in item(appendix["zh"], "topic.gwp", "zh").text


def test_names_the_gbt_2589_2020_coefficients_used(
    appendix: dict[str, tuple[MethodologyItem, ...]], result: InventoryResult
) -> None:
    coefs = set(result.energy.loc[result.energy["year"] == YEAR, "coef_id"])
    tce = load_library().tce.set_index("factor_id")
    for lang, items in appendix.items():
        energy = item(items, "topic.energy", lang).text
        assert "GB/T 2589-2020" in energy
        for coef in coefs:
            value = f"{float(tce.loc[coef, 'value']):.10g} {tce.loc[coef, 'unit']}"
            assert re.search(f"{coef}(, |，){re.escape(value)}", energy), coef
        assert texts()["doc.energy"][lang] in " ".join(item(items, "topic.energy", lang).sources)


def test_states_the_base_year_decision(
    appendix: dict[str, tuple[MethodologyItem, ...]], ledger: Ledger, result: InventoryResult
) -> None:
    decision = service.base_year_decision(ledger, result)
    assert decision is not None and decision.action == "reset"
    en = item(appendix["en"], "topic.base_year", "en")
    assert f"reset to {decision.new_base_year}" in en.text
    assert f"Base year {decision.base_year}" in en.text
    assert f"{decision.original_total:,.2f}" in en.text
    assert any("ACQ-2024" in s for s in en.sources)
    zh = item(appendix["zh"], "topic.base_year", "zh")
    assert f"基准年重新设定为{decision.new_base_year}年" in zh.text
    assert "收购" in " ".join(zh.sources)


def test_consolidation_and_boundary_come_from_the_result(
    appendix: dict[str, tuple[MethodologyItem, ...]], result: InventoryResult, ledger: Ledger
) -> None:
    inside = result.boundary[result.boundary["share"] > 0]["entity_id"]
    names = {e.entity_id: e for e in ledger.organisation()}
    en = item(appendix["en"], "topic.boundary", "en").text
    zh = item(appendix["zh"], "topic.boundary", "zh").text
    assert "operational control" in en and "运营控制权法" in zh
    assert all(names[e].name in en and str(names[e].name_zh) in zh for e in inside)


def test_both_languages_give_the_same_items_in_their_own_words(
    appendix: dict[str, tuple[MethodologyItem, ...]], ledger: Ledger
) -> None:
    en, zh = appendix["en"], appendix["zh"]
    assert len(en) == len(zh) and len(en) >= 8
    assert all(i.text for i in (*en, *zh))
    assert all(re.search(r"[\u4e00-\u9fff]", i.topic) for i in zh)
    assert not any(re.search(r"[\u4e00-\u9fff]", i.topic) for i in en)
    # computed here without a result: the same appendix
    assert methodology(ledger, YEAR, "en") == en
    with pytest.raises(ValueError, match="language"):
        methodology(ledger, YEAR, "fr")


def test_a_year_without_inventory_says_so(ledger: Ledger, result: InventoryResult) -> None:
    items = methodology(ledger, 2031, "en", result=result)
    assert any(i.text == texts()["no_year"]["en"].format(year=2031) for i in items)


def test_the_text_file_has_both_languages_the_same_placeholders_and_no_figures() -> None:
    path = Path(module.__file__).parent / "data" / "methodology_text.csv"
    with path.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    formatter = string.Formatter()
    for row in rows:
        assert row["en"] and row["zh"], row["key"]
        en = {f for _, f, _, _ in formatter.parse(row["en"]) if f}
        zh = {f for _, f, _, _ in formatter.parse(row["zh"]) if f}
        assert en == zh, row["key"]
        if not row["key"].startswith("doc."):  # section titles carry standard numbers
            assert not re.search(r"\d[.,]\d", row["en"] + row["zh"]), row["key"]


def test_linked_sections_exist_in_the_methodology_document() -> None:
    headings = set(
        re.findall(r"^## \d+\. (.+)$", (ROOT / "docs" / "methodology.md").read_text(), re.M)
    )
    linked = {v["en"] for k, v in texts().items() if k.startswith("doc.")}
    assert linked <= headings
