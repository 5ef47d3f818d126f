"""Charts of the report (:mod:`esgledger.report.charts`): SVG with its words as text, valid
XML, ids of its own, no number but the figures' text; PNG of the size asked; both the same
on every call."""

from __future__ import annotations

import re
import struct
import xml.etree.ElementTree as ET
from collections.abc import Callable

import pytest

from esgledger.demo.assess import demo_topics
from esgledger.report import charts
from esgledger.report.model import Chart, Figure, Lang, Report, Series

SVG = "{http://www.w3.org/2000/svg}"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

pytestmark = pytest.mark.skipif(
    charts.cjk_font() is None, reason="no CJK font installed (Debian: fonts-noto-cjk)"
)

SampleReport = Callable[[Lang], Report]


def _charts(report: Report) -> list[Chart]:
    return [b for b in report.blocks() if isinstance(b, Chart)]


def _texts(svg: str) -> list[str]:
    root = ET.fromstring(svg)
    return ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]


def _png_size(data: bytes) -> tuple[int, int]:
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def _materiality() -> Chart:
    def score(value: float, axis: str, topic: str) -> Figure:
        return Figure(value, "", 1, f"assessment:2024:{topic}:{axis}", topic)

    topics = (("Climate change", 4.2, 3.9), ("Data security", 3.1, 4.6), ("Community", 2.0, 2.4))
    return Chart(
        "materiality",
        "matrix",
        "Double materiality",
        tuple(t for t, _, _ in topics),
        (
            Series("Impact materiality", tuple(score(x, "impact", t) for t, x, _ in topics)),
            Series("Financial materiality", tuple(score(y, "financial", t) for t, _, y in topics)),
        ),
    )


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_svg_is_valid_xml_with_series_names_and_categories_as_text(
    sample_report: SampleReport, lang: Lang
) -> None:
    report = sample_report(lang)
    for chart in [*_charts(report), _materiality()]:
        svg = charts.svg(chart, lang)
        texts = _texts(svg)
        joined = "\n".join(texts)
        assert svg.startswith("<svg ") and svg.endswith("</svg>")
        for category in chart.categories:
            assert category in joined, (chart.block_id, category)
        if chart.kind != "matrix":  # the matrix names its series on its axes
            names = [s.name for s in chart.series] if len(chart.series) > 1 else []
            for name in names:
                assert name in texts, (chart.block_id, name)
        else:
            assert chart.series[0].name in texts
            assert chart.series[1].name in texts


def test_stacked_chart_labels_bars_and_line_with_figure_text_and_names_both_axes(
    sample_report: SampleReport,
) -> None:
    chart = next(c for c in _charts(sample_report("zh")) if c.kind == "stacked_bar_line")
    texts = _texts(charts.svg(chart, "zh"))
    assert "4,472.70" in texts  # scope 1 of the last year, from Figure.text()
    assert "0.0102" in texts  # the intensity line, on the right axis
    assert chart.y_label in texts
    assert chart.y2_label in texts
    assert "气候行动" not in texts  # the section title is not drawn, nor the chart title
    assert chart.title not in texts


def test_pie_legend_names_each_wedge_with_its_figure_and_no_share(
    sample_report: SampleReport,
) -> None:
    chart = next(c for c in _charts(sample_report("en")) if c.kind == "pie")
    texts = _texts(charts.svg(chart, "en"))
    for category, figure in zip(chart.categories, chart.series[0].figures, strict=True):
        assert any(category in t and figure.text() in t for t in texts), category
    assert not any("%" in t for t in texts)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_no_number_is_drawn_but_the_figures_text(sample_report: SampleReport, lang: Lang) -> None:
    """No tick label: every digit in a chart is a figure's text or a word of the model."""
    for chart in [*_charts(sample_report(lang)), _materiality()]:
        words = {
            *chart.categories,
            chart.y_label,
            chart.y2_label,
            *(s.name for s in chart.series),
            *(f.text() for s in chart.series for f in s.figures),
            *(f.unit for s in chart.series for f in s.figures),
        }
        for text in _texts(charts.svg(chart, lang)):
            rest = text
            for word in sorted(words, key=len, reverse=True):
                if word:
                    rest = rest.replace(word, "")
            assert not re.search(r"\d", rest), (chart.block_id, text)


def test_svg_fits_in_a_page_ids_prefixed_and_unique(sample_report: SampleReport) -> None:
    svgs = [charts.svg(c, "en") for c in _charts(sample_report("en"))]
    ids: list[str] = []
    for chart, svg in zip(_charts(sample_report("en")), svgs, strict=True):
        assert "<?xml" not in svg and "<!DOCTYPE" not in svg and "<metadata" not in svg
        assert "font-family: 'Noto Sans CJK SC'" in svg or charts.cjk_font() != "Noto Sans CJK SC"
        own = re.findall(r'\sid="([^"]+)"', svg)
        assert all(i.startswith(f"{chart.block_id}-") for i in own)
        for ref in re.findall(r'(?:url\(#|href="#)([^)"]+)', svg):
            assert ref in own
        ids.extend(own)
        assert 'aria-label="' in svg
        assert "svg.chart *{" in svg  # matplotlib's style rule does not leak into the page
    assert len(ids) == len(set(ids))


def test_svg_and_png_are_the_same_on_every_call(sample_report: SampleReport) -> None:
    for chart in _charts(sample_report("zh")):
        assert charts.svg(chart, "zh") == charts.svg(chart, "zh")
        assert charts.png(chart, "zh", dpi=50) == charts.png(chart, "zh", dpi=50)


@pytest.mark.parametrize("dpi", [50, 200])
def test_png_has_the_signature_and_the_size_of_the_dpi(
    sample_report: SampleReport, dpi: int
) -> None:
    for chart in _charts(sample_report("zh")):
        data = charts.png(chart, "zh", dpi=dpi)
        assert data.startswith(PNG_SIGNATURE)
        assert _png_size(data) == charts.size(chart, dpi)
    chart = _charts(sample_report("zh"))[0]
    assert charts.size(chart, dpi) == (round(6.4 * dpi), round(3.6 * dpi))


def test_missing_figures_are_not_drawn_and_do_not_fail() -> None:
    def fig(value: float | None, year: int) -> Figure:
        return Figure(value, "tCO2e", 2, f"ghg:{year}:S1", "Scope 1")

    chart = Chart(
        "gappy",
        "stacked_bar_line",
        "Gappy",
        ("2023", "2024"),
        (
            Series("Scope 1", (fig(None, 2023), fig(12.5, 2024)), stack="ghg"),
            Series("Intensity", (fig(None, 2023), fig(None, 2024)), "line", axis="right"),
        ),
    )
    texts = _texts(charts.svg(chart, "en"))
    assert "12.50" in texts
    bars = Chart("b", "bar", "B", ("a", "b"), (Series("S", (fig(None, 1), fig(3, 2))),))
    assert "—" in _texts(charts.svg(bars, "en"))
    pie = Chart("p", "pie", "P", ("a", "b"), (Series("S", (fig(None, 1), fig(0, 2)), "pie"),))
    assert any("—" in t for t in _texts(charts.svg(pie, "en")))


def test_unknown_kind_is_an_error() -> None:
    chart = Chart("x", "radar", "X", (), ())  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="radar"):
        charts.svg(chart, "en")


@pytest.mark.parametrize("kind", ["stacked_bar_line", "pie", "bar", "matrix", "macc"])
def test_a_chart_without_data_still_renders(kind: str) -> None:
    """A year before the first year with data: no category, or only missing figures."""
    empty = Chart("empty", kind, "t", (), (Series("s", (), "bar", stack="a"),))  # type: ignore[arg-type]
    gone = Figure(None, "t", 2, "ghg:2019:S1", "x")
    missing = Chart(
        "missing",
        kind,  # type: ignore[arg-type]
        "t",
        ("2019",),
        (Series("s", (gone,), "bar", stack="a"), Series("l", (gone,), "line", axis="right")),
    )
    for chart in (empty, missing):
        assert "<svg" in charts.svg(chart, "en")
        assert charts.png(chart, "en", dpi=50).startswith(b"\x89PNG")


def test_the_matrix_keys_points_by_letters_and_draws_the_thresholds() -> None:
    from esgledger.assess.demo import DEMO_WEIGHTS, demo_responses  # noqa: PLC0415
    from esgledger.assess.materiality import score_responses, tiers  # noqa: PLC0415
    from esgledger.report.materiality_chart import matrix_chart  # noqa: PLC0415

    scored = tiers(score_responses(demo_responses(demo_topics()), DEMO_WEIGHTS))
    chart = matrix_chart(scored, "en", year=2024, topics=demo_topics())
    assert chart.guides == (3.0, 3.0)  # materiality_scales.csv: both thresholds 3.0
    assert [charts._key(i) for i in (0, 25, 26, 701, 702)] == ["A", "Z", "AA", "ZZ", "AAA"]
    texts = _texts(charts.svg(chart, "en"))
    assert f"A {chart.categories[0]}" in texts
    assert f"S {chart.categories[18]}" in texts


def test_the_macc_draws_widths_end_to_end_and_only_figures() -> None:
    """Variable-width bars: the demo catalogue's measures laid end to end (the x extent is the
    total abatement), savings below the axis, an outlier clipped; no digit but the figures."""
    from esgledger.report.strategy_charts import macc_chart  # noqa: PLC0415
    from esgledger.strategy.abatement import load_catalogue, macc  # noqa: PLC0415

    curve = macc(load_catalogue())
    chart = macc_chart(curve, "en")
    assert chart.kind == "macc"
    words = {
        *chart.categories,
        chart.y_label,
        *(s.name for s in chart.series),
        *(f.text() for s in chart.series for f in s.figures),
    }
    for text in _texts(charts.svg(chart, "en")):
        rest = text
        for word in sorted(words, key=len, reverse=True):
            rest = rest.replace(word, "")
        assert not re.search(r"\d", rest), text
    for category, cost in zip(chart.categories, chart.series[0].figures, strict=True):
        assert any(category in t and cost.text() in t for t in _texts(charts.svg(chart, "en")))
    # the outlier rule: over three times the next is cut at one and a half times the next
    assert charts._macc_clip([-10.0, 20.0, 100.0]) == pytest.approx(30.0)
    assert charts._macc_clip([-10.0, 20.0, 50.0]) == pytest.approx(50.0)
