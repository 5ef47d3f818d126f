"""The metric catalogue: the packaged files validate, cover the seed's key performance table,
declare how every figure aggregates, and broken files give located diagnostics.

Seed: ``../shared/seed/kpi_2024.csv`` (66 rows, the 2024 key performance table of the seed
group's ESG report). Framework tables: ``../shared/reference/frameworks/``.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

import pytest

from esgledger.domain.diagnostics import Diagnostic
from esgledger.metrics import (
    COLUMNS,
    Aggregation,
    Catalogue,
    CatalogueError,
    Kind,
    Pillar,
    load_catalogue,
    load_frameworks,
    read_catalogue,
)
from esgledger.units import parse_unit

ROOT = Path(__file__).resolve().parents[2]
SEED_KPI = ROOT.parent / "shared" / "seed" / "kpi_2024.csv"
REFERENCE = ROOT.parent / "shared" / "reference" / "frameworks"
PACKAGED = ROOT / "src" / "esgledger" / "metrics" / "data" / "frameworks"
FRAMEWORK_COLUMNS = ("gri", "szse17", "issb_s2", "esrs")
"""The framework columns of the packaged catalogue files (framework ids of the registry)."""
SEED_ROWS = 66
needs_seed = pytest.mark.skipif(not SEED_KPI.exists(), reason="../shared is not beside the project")


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue()


def _seed() -> list[dict[str, str]]:
    with SEED_KPI.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


# ------------------------------------------------------------------------ packaged catalogue


def test_packaged_catalogue_validates_without_diagnostics() -> None:
    catalogue, diagnostics = read_catalogue()
    assert [str(d) for d in diagnostics] == []
    assert len(catalogue) > 100
    assert load_catalogue() is load_catalogue()  # cached
    assert load_catalogue() == catalogue


def test_one_file_per_pillar(catalogue: Catalogue) -> None:
    for pillar, name in ((Pillar.E, "environment"), (Pillar.S, "social"), (Pillar.G, "governance")):
        metrics = catalogue.by_pillar(pillar)
        assert metrics
        assert all(m.file.endswith(f"catalogue_{name}.csv") for m in metrics)
    assert sum(len(catalogue.by_pillar(p)) for p in Pillar) == len(catalogue)


def test_every_seed_row_is_mapped_exactly_once(catalogue: Catalogue) -> None:
    mapped = [m.seed_row for m in catalogue if m.seed_row is not None]
    assert sorted(mapped) == list(range(1, SEED_ROWS + 1))


@needs_seed
def test_seed_rows_match_the_published_table(catalogue: Catalogue) -> None:
    rows = _seed()
    assert len(rows) == SEED_ROWS
    seed = catalogue.seed_rows()
    for number, row in enumerate(rows, start=1):
        metric = seed[number]
        assert (metric.unit_label, metric.unit_label_zh) == (row["unit"], row["unit_zh"]), number
        published = row["published"].rstrip("+").replace(",", "")
        decimals = len(published.split(".")[1]) if "." in published else 0
        assert metric.precision == decimals, (number, metric.metric_id)


def test_computed_metrics_have_formula_unit_aggregation_and_framework(
    catalogue: Catalogue,
) -> None:
    computed = catalogue.by_kind(Kind.COMPUTED)
    assert len(computed) > 50
    for m in computed:
        assert m.formula, m.metric_id
        assert m.unit and parse_unit(m.unit) is not None, m.metric_id
        assert isinstance(m.aggregation, Aggregation), m.metric_id
        assert m.cites("gri") or m.cites("szse17"), m.metric_id


def test_every_metric_has_a_gri_or_szse_reference_that_exists(catalogue: Catalogue) -> None:
    frameworks = load_frameworks()
    for m in catalogue:
        assert m.cites("gri") or m.cites("szse17"), m.metric_id
        assert all(frameworks.has(fid, clause) for fid, clause in m.framework_refs), m.metric_id
    # the catalogue's framework columns are the registry's framework ids
    assert {fid for m in catalogue for fid, _ in m.framework_refs} == {
        "gri",
        "szse17",
        "issb_s2",
        "esrs",
        "hkex",
    }


RATIO_WORDS = {"rate", "pct", "coverage", "intensity", "share", "satisfaction"}


def _looks_like_ratio(metric_id: str, unit: str) -> bool:
    """By unit (%, a quotient) or by name (rate, share, per capita...; not a score)."""
    name = metric_id.split(".")[1]
    words = set(name.split("_"))
    parsed = parse_unit(unit)
    return (
        parsed == parse_unit("%")
        or "/" in str(parsed)
        or "per_capita" in name
        or (bool(words & RATIO_WORDS) and "score" not in words)
    )


def test_ratios_percentages_and_per_capita_figures_are_recomputed_never_summed(
    catalogue: Catalogue,
) -> None:
    ratios = [m for m in catalogue if _looks_like_ratio(m.metric_id, m.unit)]
    assert len(ratios) > 30
    for m in ratios:
        assert m.aggregation is Aggregation.RATIO, m.metric_id
        assert m.numerator is not None and m.denominator is not None, m.metric_id
        for part in (catalogue.get(m.numerator), catalogue.get(m.denominator)):
            # the parts themselves combine by addition (or are group-only figures)
            assert part.aggregation in (Aggregation.SUM, Aggregation.NONE), m.metric_id
        assert m.numerator in m.formula and m.denominator in m.formula, m.metric_id
        if m.is_percentage:
            assert m.scale == 100, m.metric_id
    assert not [m for m in catalogue if m.is_ratio and not _looks_like_ratio(m.metric_id, m.unit)]


@pytest.mark.parametrize(
    ("parent", "dimension", "members"),
    [
        ("workforce.headcount", "gender", {"male", "female"}),
        ("workforce.headcount", "age", {"age_lt35", "age_35_50", "age_gt50"}),
        ("workforce.headcount", "level", {"level_staff", "level_core", "level_management"}),
        (
            "workforce.headcount",
            "education",
            {"edu_college_or_below", "edu_bachelor", "edu_master_or_above"},
        ),
        ("workforce.headcount", "region", {"region_china", "region_overseas"}),
        ("workforce.headcount", "tier", {"tier_junior", "tier_middle", "tier_senior"}),
        ("workforce.leavers", "gender", {"male", "female"}),
        ("workforce.leavers", "age", {"age_lt35", "age_35_50", "age_gt50"}),
        ("workforce.turnover_rate", "gender", {"male", "female"}),
        ("workforce.turnover_rate", "age", {"age_lt35", "age_35_50", "age_gt50"}),
        ("training.hours_total", "gender", {"male", "female"}),
        ("training.hours_total", "tier", {"tier_junior", "tier_middle", "tier_senior"}),
        ("training.hours_per_capita", "gender", {"male", "female"}),
        ("training.hours_per_capita", "tier", {"tier_junior", "tier_middle", "tier_senior"}),
        ("ghg.total", "scope", {"scope1", "scope2", "scope3"}),
        ("supply.suppliers", "region", {"region_mainland", "region_other"}),
    ],
)
def test_published_breakdowns_are_complete(
    catalogue: Catalogue, parent: str, dimension: str, members: set[str]
) -> None:
    found = catalogue.members(parent, dimension)
    assert {m.member for m in found} == members
    for m in found:
        assert m.metric_id == f"{parent}.{m.member}" or parent == "ghg.total"
        assert m.period_rule is catalogue.get(parent).period_rule


def test_breakdowns_of_rates_are_structural_and_of_counts_add_up(catalogue: Catalogue) -> None:
    kinds = {(b.parent, b.dimension): b.sums_to_parent for b in catalogue.breakdowns()}
    assert kinds[("workforce.headcount", "gender")] is True
    assert kinds[("ghg.total", "scope")] is True
    assert kinds[("workforce.turnover_rate", "age")] is False
    assert kinds[("training.hours_per_capita", "tier")] is False
    # each ratio member divides the matching members of the numerator and denominator
    for m in catalogue.members("workforce.turnover_rate"):
        assert m.numerator == f"workforce.leavers.{m.member}"
        assert m.denominator == f"workforce.headcount.{m.member}"
    for m in catalogue.members("training.hours_per_capita"):
        assert m.numerator == f"training.hours_total.{m.member}"
        assert m.denominator == f"workforce.headcount.{m.member}"


SHARED_IDS = [
    "energy.gasoline",
    "energy.total_tce",
    "ghg.scope1",
    "ghg.intensity_revenue",
    "finance.revenue",
    "workforce.headcount",
    *(
        f"workforce.headcount.{s}"
        for s in (
            "male",
            "female",
            "age_lt35",
            "age_35_50",
            "age_gt50",
            "level_staff",
            "level_core",
            "level_management",
            "edu_college_or_below",
            "edu_bachelor",
            "edu_master_or_above",
            "region_china",
            "region_overseas",
            "tier_junior",
            "tier_middle",
            "tier_senior",
        )
    ),
    "workforce.headcount_opening",
    "workforce.new_hires",
    *(
        f"{base}{s}"
        for base in ("workforce.leavers", "workforce.turnover_rate")
        for s in ("", ".male", ".female", ".age_lt35", ".age_35_50", ".age_gt50")
    ),
    "training.hours_total",
    *(
        f"training.hours_per_capita{s}"
        for s in ("", ".male", ".female", ".tier_senior", ".tier_middle", ".tier_junior")
    ),
    "training.coverage",
    "training.investment",
    "diversity.women_middle_mgmt_pct",
    "diversity.women_senior_mgmt_pct",
    "diversity.ethnic_minority",
    "diversity.disabled",
    "diversity.veterans",
    "workforce.parental_leave_return_rate",
    "workforce.satisfaction",
]


def test_ids_shared_with_the_workforce_calculation_exist(catalogue: Catalogue) -> None:
    assert [i for i in SHARED_IDS if i not in catalogue] == []


def test_issue_scope_inputs_are_declared(catalogue: Catalogue) -> None:
    for metric_id in (
        "safety.fatalities",
        "safety.lost_time_injuries",
        "safety.lost_time_injury_rate",
        "welfare.social_insurance_coverage",
        "community.investment",
        "supply.suppliers_new_certified",
        "customer.complaint_resolution_rate",
        "innovation.rd_revenue_share",
        "innovation.patents_new",
        "innovation.software_copyrights_new",
        "infosec.major_incidents",
        "ethics.anticorruption_training_coverage",
        "ethics.whistleblowing_received",
        "ethics.whistleblowing_closed",
        "governance.board_size",
        "governance.board_independent",
        "governance.board_female",
        "governance.board_meetings",
        "governance.board_attendance_rate",
    ):
        assert metric_id in catalogue


def test_turnover_rate_is_gri_401_1_on_closing_headcount(catalogue: Catalogue) -> None:
    # GRI 401 (2016) clause 2.1: rates use the total employees at the end of the period
    rate = catalogue.get("workforce.turnover_rate")
    assert rate.cites("gri") == ("401-1",)
    assert rate.cites("szse17") == ("50",)
    assert (rate.numerator, rate.denominator, rate.scale) == (
        "workforce.leavers",
        "workforce.headcount",
        100.0,
    )
    assert catalogue.formula_ids("workforce.headcount_average") == (
        "workforce.headcount_opening",
        "workforce.headcount",
    )
    assert "average headcount" in rate.definition
    assert "closing headcount + leavers" in rate.definition


def test_scope_total_and_intensity(catalogue: Catalogue) -> None:
    total = catalogue.get("ghg.total")
    assert catalogue.formula_ids("ghg.total") == ("ghg.scope1", "ghg.scope2", "ghg.scope3")
    assert total.cites("issb_s2") and total.cites("esrs") == ("E1-6",)
    intensity = catalogue.get("ghg.intensity_revenue")
    assert (intensity.numerator, intensity.denominator) == ("ghg.total", "finance.revenue")
    assert intensity.precision == 4


def test_get_unknown_metric_names_it(catalogue: Catalogue) -> None:
    with pytest.raises(KeyError, match=r"workforce\.nope"):
        catalogue.get("workforce.nope")


OWN_TABLES = {"hkex_esg.csv"}
"""Framework tables esgledger compiled itself (each row names its source and verification);
the others are research-pack copies."""


@pytest.mark.skipif(not REFERENCE.exists(), reason="../shared is not beside the project")
def test_packaged_framework_tables_are_unchanged_copies() -> None:
    names = [f.file for f in load_frameworks() if f.file not in OWN_TABLES]
    assert len(names) == 6
    for name in names:
        assert (PACKAGED / name).read_bytes() == (REFERENCE / name).read_bytes(), name


def test_framework_tables_keep_their_source_columns() -> None:
    frameworks = load_frameworks()
    assert frameworks["gri"].rows["401-1"]["verification"]
    assert frameworks["szse17"].rows["50"]["source_ids"]
    assert frameworks.has("issb_s2", "29(a)(i)(2)")  # first part of "29(a)(i)(2),(v)"
    assert not frameworks.has("gri", "401-9")
    assert set(frameworks["sources"].rows) >= {"S01", "S17"}
    assert all(f.source for f in frameworks)  # the registry says where each table comes from
    assert [f.framework_id for f in frameworks.indexes()] == ["gri", "szse17"]


# ------------------------------------------------------------------------- broken catalogues


def _row(**values: str) -> dict[str, str]:
    row = dict.fromkeys([*COLUMNS, *FRAMEWORK_COLUMNS], "")
    row.update(
        pillar="S",
        unit="persons",
        unit_label="persons",
        unit_label_zh="人",
        kind="input",
        aggregation="sum",
        scale="1",
        period_rule="stock",
        precision="0",
        szse17="50",
        definition="test metric",
        name_zh="测试",
    )
    row.update(values)
    row.setdefault("name_en", row["metric_id"])
    if not row["name_en"]:
        row["name_en"] = row["metric_id"]
    return row


def _valid_rows() -> list[dict[str, str]]:
    return [
        _row(metric_id="workforce.headcount", gri="2-7"),  # row 2
        _row(metric_id="workforce.leavers", period_rule="flow", gri="401-1"),  # row 3
        _row(  # row 4
            metric_id="workforce.turnover_rate",
            unit="%",
            unit_label="%",
            kind="computed",
            aggregation="ratio",
            numerator="workforce.leavers",
            denominator="workforce.headcount",
            scale="100",
            period_rule="rate",
            precision="2",
            formula="workforce.leavers / workforce.headcount x 100",
            gri="401-1",
        ),
        _row(  # row 5
            metric_id="workforce.headcount.male",
            parent="workforce.headcount",
            dimension="gender",
            member="male",
        ),
    ]


def _write(directory: Path, rows: list[dict[str, str]], name: str = "social") -> Path:
    with (directory / f"catalogue_{name}.csv").open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, [*COLUMNS, *FRAMEWORK_COLUMNS], lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return directory


def test_small_valid_catalogue_loads(tmp_path: Path) -> None:
    catalogue = load_catalogue(_write(tmp_path, _valid_rows()))
    assert catalogue.ids() == (
        "workforce.headcount",
        "workforce.leavers",
        "workforce.turnover_rate",
        "workforce.headcount.male",
    )
    assert catalogue.get("workforce.turnover_rate").cites("gri") == ("401-1",)
    assert catalogue.get("workforce.turnover_rate").row == 4


def _set(index: int, **values: str) -> Callable[[list[dict[str, str]]], None]:
    def mutate(rows: list[dict[str, str]]) -> None:
        rows[index].update(values)

    return mutate


def _append(**values: str) -> Callable[[list[dict[str, str]]], None]:
    def mutate(rows: list[dict[str, str]]) -> None:
        rows.append(_row(**values))

    return mutate


def _both(
    *mutators: Callable[[list[dict[str, str]]], None],
) -> Callable[[list[dict[str, str]]], None]:
    def mutate(rows: list[dict[str, str]]) -> None:
        for mutator in mutators:
            mutator(rows)

    return mutate


BROKEN = [
    pytest.param(
        _append(metric_id="workforce.leavers", gri="401-1"),
        "catalogue.duplicate_id",
        6,
        "metric_id",
        id="duplicate id",
    ),
    pytest.param(
        _set(0, aggregation="average"),
        "catalogue.unknown_aggregation",
        2,
        "aggregation",
        id="unknown aggregation",
    ),
    pytest.param(
        _set(2, denominator="", formula="workforce.leavers x 100"),
        "catalogue.ratio_parts",
        4,
        "denominator",
        id="ratio without denominator",
    ),
    pytest.param(_set(1, gri="401-9"), "catalogue.unknown_gri", 3, "gri", id="unknown GRI code"),
    pytest.param(
        _set(3, parent="workforce.headcunt"),
        "catalogue.unknown_metric",
        5,
        "parent",
        id="unknown parent",
    ),
    pytest.param(
        _set(2, denominator="workforce.nobody", formula="workforce.leavers / workforce.nobody"),
        "catalogue.unknown_metric",
        4,
        "denominator",
        id="unknown denominator",
    ),
    pytest.param(
        _set(2, aggregation="sum", numerator="", denominator=""),
        "catalogue.never_sum",
        4,
        "aggregation",
        id="percentage summed",
    ),
    pytest.param(_set(0, kind="derived"), "catalogue.unknown_kind", 2, "kind", id="unknown kind"),
    pytest.param(
        _set(0, period_rule="monthly"),
        "catalogue.unknown_period_rule",
        2,
        "period_rule",
        id="unknown period rule",
    ),
    pytest.param(_set(0, unit="heads"), "catalogue.unknown_unit", 2, "unit", id="unknown unit"),
    pytest.param(
        _set(2, formula=""), "catalogue.formula", 4, "formula", id="computed without formula"
    ),
    pytest.param(
        _set(2, formula="workforce.leavers / workforce.headcount_avg x 100"),
        "catalogue.formula",
        4,
        "formula",
        id="formula names an unknown metric",
    ),
    pytest.param(
        _set(1, gri="", szse17=""),
        "catalogue.no_framework",
        3,
        "gri",
        id="no framework reference",
    ),
    pytest.param(
        _set(1, szse17="99"), "catalogue.unknown_szse17", 3, "szse17", id="unknown SZSE article"
    ),
    pytest.param(_set(1, esrs="S1-99"), "catalogue.unknown_esrs", 3, "esrs", id="unknown ESRS DR"),
    pytest.param(_set(2, scale="1"), "catalogue.scale", 4, "scale", id="percentage with scale 1"),
    pytest.param(
        _set(2, aggregation="weighted_mean", numerator="", denominator=""),
        "catalogue.weight",
        4,
        "weight",
        id="weighted mean without weight",
    ),
    pytest.param(_set(3, unit="h"), "catalogue.unit_mismatch", 5, "unit", id="member unit differs"),
    pytest.param(
        _set(3, dimension=""), "catalogue.breakdown", 5, "dimension", id="member without dimension"
    ),
    pytest.param(
        _set(0, pillar="G"), "catalogue.pillar_mismatch", 2, "pillar", id="pillar of another file"
    ),
    pytest.param(
        _set(0, metric_id="Workforce Headcount"), "catalogue.bad_id", 2, "metric_id", id="bad id"
    ),
    pytest.param(
        _both(_set(0, seed_row="12"), _set(1, seed_row="12")),
        "catalogue.seed_row",
        3,
        "seed_row",
        id="seed row mapped twice",
    ),
]


@pytest.mark.parametrize(("mutate", "code", "row", "column"), BROKEN)
def test_broken_catalogue_gives_located_diagnostic(
    tmp_path: Path,
    mutate: Callable[[list[dict[str, str]]], None],
    code: str,
    row: int,
    column: str,
) -> None:
    rows = _valid_rows()
    mutate(rows)
    _write(tmp_path, rows)
    _, diagnostics = read_catalogue(tmp_path)
    matching = [d for d in diagnostics if d.code == code]
    assert matching, [str(d) for d in diagnostics]
    found = matching[0]
    assert found.file is not None and found.file.endswith("catalogue_social.csv")
    assert (found.row, found.column) == (row, column), str(found)
    assert str(found).startswith(f"{found.file}:{row}:{column}: ")
    with pytest.raises(CatalogueError) as excinfo:
        load_catalogue(tmp_path)
    assert found in excinfo.value.diagnostics


def test_duplicate_id_names_the_first_location(tmp_path: Path) -> None:
    rows = _valid_rows()
    rows.append(_row(metric_id="workforce.headcount", gri="2-7"))
    _, diagnostics = read_catalogue(_write(tmp_path, rows))
    (duplicate,) = [d for d in diagnostics if d.code == "catalogue.duplicate_id"]
    assert "catalogue_social.csv:2" in duplicate.message


def test_missing_column_is_reported_on_the_header(tmp_path: Path) -> None:
    path = tmp_path / "catalogue_social.csv"
    path.write_text("metric_id,name_en\nworkforce.headcount,total\n", encoding="utf-8")
    _, diagnostics = read_catalogue(tmp_path)
    assert [(d.code, d.row) for d in diagnostics] == [("catalogue.header", 1)]
    assert "aggregation" in diagnostics[0].message


def test_unknown_file_and_empty_directory(tmp_path: Path) -> None:
    _, diagnostics = read_catalogue(tmp_path)
    assert [d.code for d in diagnostics] == ["catalogue.files"]
    _write(tmp_path, _valid_rows(), name="people")
    _, diagnostics = read_catalogue(tmp_path)
    assert [d.code for d in diagnostics] == ["catalogue.files"]
    assert isinstance(diagnostics[0], Diagnostic)
    assert (diagnostics[0].file or "").endswith("catalogue_people.csv")


def test_references_across_files_resolve(tmp_path: Path) -> None:
    _write(tmp_path, _valid_rows())
    revenue = _row(
        metric_id="finance.revenue",
        pillar="G",
        unit="10k CNY",
        unit_label="10k CNY",
        period_rule="flow",
        gri="201-1",
        szse17="",
    )
    _write(tmp_path, [revenue], name="governance")
    catalogue, diagnostics = read_catalogue(tmp_path)
    assert diagnostics == ()
    assert [m.pillar for m in catalogue][-1] is Pillar.G


def test_the_environmental_data_points_of_gri_hkex_and_szse_have_metrics(
    catalogue: Catalogue,
) -> None:
    """Issue 16: the packaged catalogue covers the environmental data points GRI 302/303/305/
    306 and HKEX KPIs A1.1-A2.5 ask for, and every fuel an activity type burns."""
    cited = {(fid, clause) for m in catalogue for fid, clause in m.framework_refs}
    gri = {"302-1", "302-3", "303-3", "303-4", "303-5", "305-1", "305-2", "305-3", "305-4"}
    gri |= {"305-7", "306-3", "306-4", "306-5"}
    assert {("gri", c) for c in gri} <= cited
    hkex = {"A1.1", "A1.2", "A1.3", "A1.4", "A2.1", "A2.2", "A2.5"}
    assert {("hkex", c) for c in hkex} <= cited
    for fuel in ("diesel", "raw_coal", "coke", "lpg", "fuel_oil", "kerosene", "natural_gas"):
        assert f"energy.{fuel}" in catalogue
    rows = load_frameworks()["hkex"].rows
    assert all(r["source"] and r["verification"] for r in rows.values())
