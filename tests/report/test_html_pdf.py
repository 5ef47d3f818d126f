"""The report as HTML (:mod:`esgledger.report.html`) and PDF (:mod:`esgledger.report.pdf`).

HTML: one self-contained page (no external resource, no script), every figure of the model
printed as a ``span.fig`` with its lineage id, no other number, the fixed words in the
report's language, text escaped. Golden files: ``tests/report/golden/report-<lang>.html`` (the
screen page) and ``report-<lang>-print.html`` (the page WeasyPrint prints), compared after
normalising the build facts of ``Report.meta`` and each chart's SVG (reduced to its text:
charts have their own tests, and the drawing's coordinates belong to matplotlib's version).

Update the golden files after an intended change with::

    ESGLEDGER_UPDATE_GOLDEN=1 .venv/bin/pytest tests/report/test_html_pdf.py

and review the diff. PDF: rendered in both languages, pages converted with ``pdftoppm`` and
text extracted with ``pdftotext`` (poppler-utils; the tests skip without them or without a
CJK font)."""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import subprocess
from collections import Counter
from collections.abc import Callable, Iterator
from importlib import resources
from pathlib import Path

import pytest
from lxml import html as lxml_html
from lxml.html import HtmlElement

from esgledger.metrics import load_frameworks
from esgledger.report.html import labels, render_html
from esgledger.report.model import Lang, Narrative, Report, Section

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("ESGLEDGER_UPDATE_GOLDEN") == "1"
LANGS: tuple[Lang, ...] = ("zh", "en")
FIXED_LABELS = (
    "contents",
    "disclosure",
    "location",
    "omission",
    "reason",
    "article",
    "four_elements",
    "gap_list",
    "methodology",
    "colophon",
    "chart_data",
)
SampleReport = Callable[[Lang], Report]


def _page(report: Report, for_pdf: bool = False) -> str:
    return render_html(report, for_pdf=for_pdf)


def _tree(page: str) -> HtmlElement:
    return lxml_html.document_fromstring(page)


def _printed_text(tree: HtmlElement) -> str:
    """The text a reader sees (style sheets left out)."""
    body = tree.find("body")
    assert body is not None
    for style in list(body.iter("style")):
        style.drop_tree()
    return "".join(body.itertext())


def _model_strings(value: object) -> Iterator[str]:
    """Every string and integer held by the model (words, codes, article numbers)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, int) and not isinstance(value, bool):
        yield str(value)
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _model_strings(k)
            yield from _model_strings(v)
    elif isinstance(value, tuple | list):
        for item in value:
            yield from _model_strings(item)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            if f.name not in {"value", "precision"}:
                yield from _model_strings(getattr(value, f.name))


# -- HTML --------------------------------------------------------------------------------------


@pytest.mark.parametrize("for_pdf", [False, True])
@pytest.mark.parametrize("lang", LANGS)
def test_page_parses_and_is_self_contained(
    sample_report: SampleReport, lang: Lang, for_pdf: bool
) -> None:
    page = _page(sample_report(lang), for_pdf)
    tree = _tree(page)
    assert tree.get("lang") == {"zh": "zh-CN", "en": "en"}[lang]
    assert page.startswith("<!DOCTYPE html>")
    assert not tree.xpath("//script | //link | //img | //iframe | //object")
    assert not tree.xpath("//@src")
    hrefs = re.findall(r'[\s:]href="([^"]*)"', page)
    assert hrefs and all(h.startswith("#") for h in hrefs)
    ids = set(tree.xpath("//@id"))
    assert all(h[1:] in ids for h in hrefs), "every link points into the page"
    assert len(tree.xpath("//@id")) == len(ids), "ids are unique"
    assert not re.search(r"url\((?!#)|@import|https?://(?!www\.w3\.org)", page)
    assert len(tree.xpath("//svg")) == 3


@pytest.mark.parametrize("for_pdf", [False, True])
@pytest.mark.parametrize("lang", LANGS)
def test_every_figure_is_a_span_with_its_lineage_and_text(
    sample_report: SampleReport, lang: Lang, for_pdf: bool
) -> None:
    report = sample_report(lang)
    tree = _tree(_page(report, for_pdf))
    spans = tree.xpath("//span[@class='fig']")
    printed = Counter((s.get("data-lineage"), s.text_content()) for s in spans)
    for figure in report.figures():
        assert printed[(figure.lineage, figure.text())] >= 1, figure
    for span in spans:
        assert span.get("title") == f"esgledger explain {span.get('data-lineage')}"
    assert ("ghg:2024:S1", "4,472.70") in printed
    assert ("ghg:2022:S1", "—") in printed  # a missing figure: a dash, still traceable


@pytest.mark.parametrize("for_pdf", [False, True])
@pytest.mark.parametrize("lang", LANGS)
def test_no_number_is_printed_but_figures_and_the_models_words(
    sample_report: SampleReport, lang: Lang, for_pdf: bool
) -> None:
    """Strip every figure's text and every word of the model and of the labels (codes like
    305-1, units like tCO2e), then years and section and article numbers: no digit remains
    (a tick label or a number formatted by the renderer would)."""
    report = sample_report(lang)
    text = _printed_text(_tree(_page(report, for_pdf)))
    words = {*_model_strings(report), *(f.text() for f in report.figures())}
    words |= {v for row in labels().values() for v in row.values()}
    # text as printed: paragraphs, without the bold marks
    words |= {p.strip().replace("**", "") for w in words for p in w.split("\n\n")}
    figures = {f.text() for f in report.figures()}
    numbers = {w for w in words if re.fullmatch(r"[\d.]+", w)} - figures
    for word in sorted(words - numbers, key=len, reverse=True):
        if word:
            text = text.replace(word, " ")
    text = re.sub(r"\b(19|20)\d\d\b", " ", text)
    for number in sorted(numbers, key=len, reverse=True):
        text = re.sub(rf"(?<![\d.,]){re.escape(number)}(?![\d.,])", " ", text)
    assert not re.findall(r".{0,20}\d.{0,20}", text)


@pytest.mark.parametrize("lang", LANGS)
def test_fixed_words_are_in_the_reports_language(sample_report: SampleReport, lang: Lang) -> None:
    text = _printed_text(_tree(_page(sample_report(lang))))
    other = "en" if lang == "zh" else "zh"
    for key in FIXED_LABELS:
        assert labels()[key][lang] in text, key
        if labels()[key][other] != labels()[key][lang]:
            assert labels()[key][other] not in text, key
    # the indexes' headings come from the framework registry, in the report's language
    for framework in load_frameworks().indexes():
        assert framework.title(lang) in text, framework.framework_id
        if framework.title(other) != framework.title(lang):
            assert framework.title(other) not in text, framework.framework_id
    print_text = _printed_text(_tree(_page(sample_report(lang), True)))
    assert labels()["figure_lineage"][lang] in print_text
    assert labels()["figure_lineage"][lang] not in text  # the appendix is for print only


def test_labels_have_both_languages_and_the_template_no_digit() -> None:
    for key, row in labels().items():
        assert row["en"] and row["zh"], key
    folder = resources.files("esgledger.report").joinpath("templates")
    template = folder.joinpath("report.html").read_text("utf-8")
    assert not re.search(r"\d", template)
    words = re.sub(r"\{[{%#].*?[}%#]\}|<[^>]*>", " ", template, flags=re.DOTALL)
    assert not re.search(r"[A-Za-z\u4e00-\u9fff]", words), "no fixed word in the template"


def test_narrative_is_escaped_with_bold_kept(sample_report: SampleReport) -> None:
    report = sample_report("en")
    hostile = Narrative("x.text", "<script>alert('x')</script> & **bold** <b>not bold</b>")
    section = Section("x", "4", "Hostile", 1, blocks=(hostile,))
    report = dataclasses.replace(report, sections=(*report.sections, section), title="<i>Title</i>")
    page = render_html(report)
    tree = _tree(page)
    assert not tree.xpath("//script | //b | //i")
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; <strong>bold</strong>" in page
    assert "&lt;i&gt;Title&lt;/i&gt;" in page


def test_toc_lists_every_section_with_its_number(sample_report: SampleReport) -> None:
    report = sample_report("zh")
    tree = _tree(_page(report))
    entries = [a.text_content() for a in tree.xpath("//nav[@class='toc']//a")]
    for section in report.walk():
        assert f"{section.number} {section.title}" in entries
    headings = [h.text_content() for h in tree.xpath("//section/*[self::h2 or self::h3]")]
    assert "2.1 气候行动" in headings
    assert tree.xpath("//section[@id='s-energy']/h4")  # level 3 -> h4


def test_tables_are_real_tables_with_header_cells(sample_report: SampleReport) -> None:
    report = sample_report("en")
    tree = _tree(_page(report))
    table = tree.xpath("//table[caption='Greenhouse gas emissions by year']")[0]
    assert [th.text_content() for th in table.xpath("thead/tr/th")] == [
        "Year",
        "Scope 1 (tCO2e)",
        "Scope 2 (location-based) (tCO2e)",
        "Scope 3 (tCO2e)",
    ]
    assert [th.text_content() for th in table.xpath("tbody/tr/th")] == ["2022", "2023", "2024"]
    gri = tree.xpath("//section[@id='gri-index']//table")[0]
    assert len(gri.xpath("thead/tr/th")) == 5
    szse = tree.xpath("//section[@id='szse-index']//table")[0]
    assert len(szse.xpath("thead/tr/th")) == 6


def test_page_is_the_same_on_every_render(sample_report: SampleReport) -> None:
    report = sample_report("zh")
    assert render_html(report) == render_html(report)
    assert render_html(report, for_pdf=True) == render_html(report, for_pdf=True)


# -- golden files ------------------------------------------------------------------------------


def _svg_summary(match: re.Match[str]) -> str:
    texts = re.findall(r"<text\b[^>]*>([^<]*)</text>", match.group(0))
    return "<svg><!-- " + " | ".join(texts).replace("--", "- -") + " --></svg>"


def normalise(page: str, report: Report) -> str:
    """The page without what may differ between builds of one report (see the module doc)."""
    for key, value in report.meta.items():
        if value:
            page = page.replace(value, f"<{key}>")
    return re.sub(r"<svg\b.*?</svg>", _svg_summary, page, flags=re.DOTALL)


@pytest.mark.parametrize("for_pdf", [False, True])
@pytest.mark.parametrize("lang", LANGS)
def test_page_matches_the_golden_file(
    sample_report: SampleReport, lang: Lang, for_pdf: bool
) -> None:
    report = sample_report(lang)
    page = normalise(_page(report, for_pdf), report)
    path = GOLDEN / f"report-{lang}{'-print' if for_pdf else ''}.html"
    if UPDATE or not path.exists():
        GOLDEN.mkdir(exist_ok=True)
        path.write_text(page, encoding="utf-8")
        if not UPDATE:
            pytest.fail(f"{path.name} written: review it and run again")
    assert page == path.read_text(encoding="utf-8"), (
        f"{path.name} differs: ESGLEDGER_UPDATE_GOLDEN=1 rewrites it (review the diff)"
    )


# -- PDF ---------------------------------------------------------------------------------------


def _cjk_font_installed() -> bool:
    if shutil.which("fc-list"):
        out = subprocess.run(
            ["fc-list", ":lang=zh", "family"], capture_output=True, text=True, check=False
        ).stdout
        return "Noto Sans CJK" in out or "Source Han Sans" in out
    return False


needs_poppler = pytest.mark.skipif(
    not (shutil.which("pdftoppm") and shutil.which("pdftotext") and shutil.which("pdfinfo")),
    reason="poppler-utils (pdftoppm, pdftotext, pdfinfo) not installed",
)
needs_cjk = pytest.mark.skipif(
    not _cjk_font_installed(), reason="no Noto Sans CJK font (Debian: fonts-noto-cjk)"
)


@pytest.fixture(scope="module")
def pdfs(sample_report: SampleReport) -> Callable[[Lang], bytes]:
    """The PDF of the sample report in a language, rendered once per module and language."""
    from esgledger.report.pdf import render_pdf  # noqa: PLC0415

    done: dict[str, bytes] = {}

    def pdf(lang: Lang) -> bytes:
        if lang not in done:
            done[lang] = render_pdf(sample_report(lang))
        return done[lang]

    return pdf


EXPECTED = {
    "zh": ("目录", "气候行动", "2.1.1 能源管理", "关键", "数据溯源", "ghg:2024:S1", "缺口清单"),
    "en": (
        "Contents",
        "Climate action",
        "2.1.1 Energy management",
        "Figure lineage",
        "ghg:2024:S1",
        "Gap list",
        "GRI content index",
    ),
}
MIN_PAGES = 11
"""Cover, contents, three level-1 sections, methodology, two indexes, gap list, lineage,
colophon: each starts a page."""


@needs_poppler
@needs_cjk
@pytest.mark.parametrize("lang", LANGS)
def test_pdf_pages_and_text(
    pdfs: Callable[[Lang], bytes], sample_report: SampleReport, lang: Lang, tmp_path: Path
) -> None:
    report = sample_report(lang)
    pdf = tmp_path / f"report-{lang}.pdf"
    pdf.write_bytes(pdfs(lang))
    info = subprocess.run(["pdfinfo", pdf], capture_output=True, text=True, check=True).stdout
    pages = int(re.search(r"^Pages:\s+(\d+)", info, re.MULTILINE).group(1))  # type: ignore[union-attr]
    assert "A4" in info
    assert re.search(r"^CreationDate:.*2025", info, re.MULTILINE)  # meta['built_at']
    subprocess.run(["pdftoppm", "-r", "50", "-png", pdf, tmp_path / "page"], check=True)
    pngs = sorted(tmp_path.glob("page-*.png"))
    assert len(pngs) == pages >= MIN_PAGES
    assert all(p.read_bytes().startswith(b"\x89PNG") for p in pngs)
    text = subprocess.run(
        ["pdftotext", "-layout", pdf, "-"], capture_output=True, text=True, check=True
    ).stdout
    for expected in (*EXPECTED[lang], report.title, report.organisation):
        assert expected in text, expected
    for figure in ("4,472.70", "31,925.01", "0.0102", "5,175.32"):
        assert figure in text, figure
    assert "\ufffd" not in text


@needs_cjk
def test_pdf_is_the_same_on_every_render(
    pdfs: Callable[[Lang], bytes], sample_report: SampleReport
) -> None:
    from esgledger.report.pdf import render_pdf  # noqa: PLC0415

    assert pdfs("zh").startswith(b"%PDF-")
    assert render_pdf(sample_report("zh")) == pdfs("zh")
