"""The report as a Word document (python-docx), for editors who finish it in Word or WPS.

Layout: a title page (title, organisation, reporting year), a table of contents (a ``TOC``
field over the Heading 1-3 styles; the document asks Word to update its fields when opened),
the sections with their numbers as Heading 1/2/3 (deeper levels use Heading 4-9), narrative
paragraphs (``**bold**`` as bold runs), figure lists as bulleted lines, tables as real Word
tables ('Table Grid', header row repeated on every page, figures right-aligned) with their
title as a caption above, charts as PNG images (:func:`esgledger.report.charts.png`) with
their title as a caption below; then the methodology appendix, the content indexes (GRI,
SZSE guideline No. 17: one per framework of the registry) as tables, the gap list, the figure
lineage table and a colophon from ``Report.meta``. Fixed words come from ``data/labels_office.csv``.

Lineage: Word has footnotes but python-docx cannot write them, so the document uses
endnote-like references. Each figure in a table is followed by a small superscript reference
``[n]`` (character style 'Lineage Reference'), and so is each line of a figure list (after the
unit); ``n`` numbers the figure's lineage id in order of first appearance, and the same lineage
id keeps the same number wherever it appears. A chart's
caption carries the references of all its figures (``[3-7, 12]``). The 'Figure lineage' table
near the end maps each reference to its lineage id (what ``esgledger explain`` accepts) and
the figure's label. A table cell thus holds two runs: ``Figure.text()`` and the reference.

Numbers: every number printed is :meth:`Figure.text` (or a reference number); nothing is
computed here.

East-Asian text: every style's East-Asian font is "Noto Sans CJK SC" (the theme's East-Asian
font is dropped: the template's theme would pick a Japanese one), with SimSun as its
alternate name in the font table, so Word falls back to SimSun where Noto is not installed;
East-Asian text is tagged zh-CN.

Deterministic: core properties (author esgledger, created and modified from
``meta['built_at']``) and zip timestamps are fixed, so one report always gives the same bytes.
"""

from __future__ import annotations

import importlib
import io
import re
from collections.abc import Callable, Sequence
from typing import cast

from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor
from docx.styles.style import CharacterStyle, ParagraphStyle
from docx.text.paragraph import Paragraph

from esgledger.report.model import (
    Chart,
    Figure,
    FigureList,
    Narrative,
    Report,
    Section,
    Table,
)
from esgledger.report.workbook import (
    built_at,
    index_cell,
    index_title,
    office_label,
    stable_zip,
)

EAST_ASIAN_FONT = "Noto Sans CJK SC"
PROMPT_COLOUR = RGBColor(0x7A, 0x5C, 0x00)
"""A section's prompt (not written by the company): set apart as in the HTML/PDF report."""
EAST_ASIAN_FALLBACK = "SimSun"
TEXT_WIDTH = Cm(16)
"""A4 (21 cm) less 2.5 cm margins on each side."""
TOC_LEVELS = "1-3"
TABLE_TEXT = "Table Text"
TABLE_NOTE = "Table Note"
REFERENCE = "Lineage Reference"

_BOLD = re.compile(r"\*\*(.+?)\*\*", re.DOTALL)
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_SETTINGS_AFTER_UPDATE_FIELDS = (
    "hdrShapeDefaults",
    "footnotePr",
    "endnotePr",
    "compat",
    "docVars",
    "rsids",
    "mathPr",
    "attachedSchema",
    "themeFontLang",
)
"""Elements that follow ``w:updateFields`` in ``w:settings`` (schema order)."""
_FONT_ENTRY = (
    f'<w:font w:name="{EAST_ASIAN_FONT}"><w:altName w:val="{EAST_ASIAN_FALLBACK}"/>'
    '<w:charset w:val="86"/><w:family w:val="swiss"/><w:pitch w:val="variable"/></w:font>'
).encode()

Cell = str | Figure


def _clean(text: str) -> str:
    """Text XML can carry (control characters removed)."""
    return _XML_ILLEGAL.sub("", text)


class _References:
    """Lineage ids numbered in order of first appearance (one render's state)."""

    def __init__(self) -> None:
        self.numbers: dict[str, int] = {}
        self.labels: dict[str, str] = {}

    def of(self, figure: Figure) -> int:
        self.labels.setdefault(figure.lineage, figure.label)
        return self.numbers.setdefault(figure.lineage, len(self.numbers) + 1)


def _ranges(numbers: Sequence[int]) -> str:
    """``[1, 2, 3, 5]`` -> ``1–3, 5``."""
    spans: list[list[int]] = []
    for n in sorted(set(numbers)):
        if spans and spans[-1][1] == n - 1:
            spans[-1][1] = n
        else:
            spans.append([n, n])
    return ", ".join(str(a) if a == b else f"{a}\u2013{b}" for a, b in spans)


class _Writer:
    """Writes one report into one document."""

    def __init__(self, report: Report) -> None:
        self.report = report
        self.lang = report.lang
        self.doc: DocxDocument = Document()
        self.refs = _References()
        self._png: Callable[[Chart, str], bytes] | None = None

    def label(self, key: str) -> str:
        return office_label(key, self.lang)

    # -- text -------------------------------------------------------------------------------

    def runs(self, paragraph: Paragraph, text: str) -> None:
        """``text`` into ``paragraph``, ``**bold**`` as bold runs; line breaks kept."""
        for i, part in enumerate(_BOLD.split(_clean(text))):
            if part:
                paragraph.add_run(part).bold = i % 2 == 1 or None

    def reference(self, paragraph: Paragraph, numbers: Sequence[int]) -> None:
        if numbers:
            paragraph.add_run(f"[{_ranges(numbers)}]", style=REFERENCE)

    def figure(self, paragraph: Paragraph, figure: Figure) -> None:
        paragraph.add_run(figure.text())
        self.reference(paragraph, [self.refs.of(figure)])

    def heading(self, text: str, level: int) -> None:
        self.doc.add_heading(_clean(text), level=min(max(level, 1), 9))

    def paragraph(self, text: str, style: str | None = None) -> Paragraph:
        paragraph = self.doc.add_paragraph(style=style)
        self.runs(paragraph, text)
        return paragraph

    # -- tables -----------------------------------------------------------------------------

    def table(self, header: Sequence[str], rows: Sequence[Sequence[Cell | int]]) -> None:
        """A Word table: bold header row repeated on each page, figures right-aligned."""
        table = self.doc.add_table(rows=1 + len(rows), cols=len(header))
        table.style = self.doc.styles["Table Grid"]
        numeric = [
            bool(rows) and all(isinstance(r[c], Figure | int) for r in rows if c < len(r))
            for c in range(len(header))
        ]
        head = table.rows[0]
        flag = OxmlElement("w:tblHeader")
        flag.set(qn("w:val"), "true")
        head._tr.get_or_add_trPr().append(flag)
        for col, name in enumerate(header):
            paragraph = head.cells[col].paragraphs[0]
            paragraph.style = self.doc.styles[TABLE_TEXT]
            paragraph.add_run(_clean(name)).bold = True
            if numeric[col]:
                paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        for row, values in zip(table.rows[1:], rows, strict=True):
            for col, value in enumerate(values[: len(header)]):
                paragraph = row.cells[col].paragraphs[0]
                paragraph.style = self.doc.styles[TABLE_TEXT]
                if isinstance(value, Figure):
                    self.figure(paragraph, value)
                    paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
                else:
                    self.runs(paragraph, str(value))

    # -- blocks -----------------------------------------------------------------------------

    def narrative(self, block: Narrative) -> None:
        for text in block.paragraphs():
            paragraph = self.paragraph(text)
            if block.origin == "prompt":  # a section not written: its prompt, set apart
                for run in paragraph.runs:
                    run.italic = True
                    run.font.color.rgb = PROMPT_COLOUR

    def figure_list(self, block: FigureList) -> None:
        if block.title:
            self.paragraph(block.title, "Caption")
        for figure in block.figures:
            paragraph = self.doc.add_paragraph(style="List Bullet")
            self.runs(paragraph, f"{figure.label}{self.label('colon')}" if figure.label else "")
            paragraph.add_run(figure.text())
            if figure.unit and not figure.missing:
                self.runs(paragraph, f" {figure.unit}")
            self.reference(paragraph, [self.refs.of(figure)])

    def data_table(self, block: Table) -> None:
        if block.title:
            self.paragraph(block.title, "Caption").paragraph_format.keep_with_next = True
        self.table(block.columns, block.rows)
        for note in block.notes:
            self.paragraph(note, TABLE_NOTE)

    def chart(self, block: Chart) -> None:
        if self._png is None:
            # imported when first needed: matplotlib takes a second to load
            module = importlib.import_module("esgledger.report.charts")
            self._png = cast(Callable[[Chart, str], bytes], module.png)
        self.doc.add_picture(io.BytesIO(self._png(block, self.lang)), width=TEXT_WIDTH)
        self.doc.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER
        self.doc.paragraphs[-1].paragraph_format.keep_with_next = True
        caption = self.paragraph(block.title, "Caption")
        caption.alignment = WD_ALIGN_PARAGRAPH.CENTER
        numbers = [self.refs.of(f) for s in block.series for f in s.figures]
        self.reference(caption, numbers)

    def section(self, section: Section) -> None:
        self.heading(f"{section.number} {section.title}".strip(), section.level)
        for block in section.blocks:
            if isinstance(block, Narrative):
                self.narrative(block)
            elif isinstance(block, FigureList):
                self.figure_list(block)
            elif isinstance(block, Table):
                self.data_table(block)
            elif isinstance(block, Chart):
                self.chart(block)
        for child in section.children:
            self.section(child)

    # -- front and back matter --------------------------------------------------------------

    def title_page(self) -> None:
        report = self.report
        self.paragraph(report.title, "Title")
        if report.organisation:
            self.paragraph(report.organisation, "Subtitle")
        year = self.paragraph(self.label("reporting_year").format(year=report.year))
        year.runs[-1].add_break(WD_BREAK.PAGE)
        self.paragraph(self.label("contents"), "TOC Heading")
        self.toc()

    def toc(self) -> None:
        """A ``TOC`` field; Word fills it in when it updates the fields."""
        paragraph = self.doc.add_paragraph()
        for kind, text in (
            ("begin", None),
            ("instr", f'TOC \\o "{TOC_LEVELS}" \\h \\z \\u'),
            ("separate", None),
            ("text", self.label("toc_hint")),
            ("end", None),
        ):
            run = paragraph.add_run()
            if kind == "text":
                run.text = text or ""
            elif kind == "instr":
                instr = OxmlElement("w:instrText")
                instr.set(qn("xml:space"), "preserve")
                instr.text = text
                run._r.append(instr)
            else:
                char = OxmlElement("w:fldChar")
                char.set(qn("w:fldCharType"), kind)
                run._r.append(char)
        paragraph.runs[-1].add_break(WD_BREAK.PAGE)

    def methodology(self) -> None:
        if not self.report.methodology:
            return
        self.heading(self.label("methodology"), 1)
        for item in self.report.methodology:
            self.heading(item.topic, 2)
            for text in (p.strip() for p in item.text.split("\n\n")):
                if text:
                    self.paragraph(text)
            if item.sources:
                sources = f"{self.label('sources')}{self.label('colon')}{'; '.join(item.sources)}"
                self.paragraph(sources, TABLE_NOTE)

    def indexes(self) -> None:
        report, label = self.report, self.label
        for index in report.indexes:
            self.heading(index_title(index, report.lang), 1)
            self.table(
                [label(key) for key, _ in index.columns],
                [tuple(index_cell(row, f) for _, f in index.columns) for row in index.rows],
            )
        self.heading(label("gap_list"), 1)
        if report.gaps:
            self.table(
                [label(k) for k in ("framework", "item", "missing")],
                [(g.framework, g.item, g.what) for g in report.gaps],
            )
        else:
            self.paragraph(label("no_gaps"))

    def lineage(self) -> None:
        if not self.refs.numbers:
            return
        self.heading(self.label("figure_lineage"), 1)
        self.paragraph(self.label("lineage_intro"))
        self.table(
            [self.label(k) for k in ("ref", "lineage", "indicator")],
            [(n, lineage, self.refs.labels[lineage]) for lineage, n in self.refs.numbers.items()],
        )

    def colophon(self) -> None:
        self.heading(self.label("colophon"), 1)
        self.paragraph(self.label("generated_by"))
        for key, value in self.report.meta.items():
            name = f"meta_{key}"
            try:
                shown = self.label(name)
            except KeyError:
                shown = key
            self.paragraph(f"{shown}{self.label('colon')}{value}")

    # -- document set-up --------------------------------------------------------------------

    def setup(self) -> None:
        doc = self.doc
        for section in doc.sections:
            section.page_width, section.page_height = Cm(21), Cm(29.7)
            section.left_margin = section.right_margin = Cm(2.5)
            section.top_margin = section.bottom_margin = Cm(2.5)
        styles = doc.styles
        table_text = cast(ParagraphStyle, styles.add_style(TABLE_TEXT, WD_STYLE_TYPE.PARAGRAPH))
        table_text.base_style = styles["Normal"]
        table_text.font.size = Pt(9)
        table_text.paragraph_format.space_before = table_text.paragraph_format.space_after = Pt(0)
        table_text.paragraph_format.line_spacing = 1.0
        note = cast(ParagraphStyle, styles.add_style(TABLE_NOTE, WD_STYLE_TYPE.PARAGRAPH))
        note.base_style = styles["Normal"]
        note.font.size = Pt(8)
        reference = cast(CharacterStyle, styles.add_style(REFERENCE, WD_STYLE_TYPE.CHARACTER))
        reference.font.superscript = True
        reference.font.size = Pt(7)
        reference.font.color.rgb = RGBColor(0x59, 0x59, 0x59)
        self.east_asian()
        settings = doc.settings.element
        update = OxmlElement("w:updateFields")
        update.set(qn("w:val"), "true")
        after = [
            c for c in settings if c.tag in {qn(f"w:{n}") for n in _SETTINGS_AFTER_UPDATE_FIELDS}
        ]
        if after:
            after[0].addprevious(update)
        else:
            settings.append(update)
        for theme in settings.findall(qn("w:themeFontLang")):
            theme.set(qn("w:eastAsia"), "zh-CN")
        props = doc.core_properties
        props.author = props.last_modified_by = "esgledger"
        props.created = props.modified = built_at(self.report)
        props.title = self.report.title
        props.subject = self.report.organisation
        props.language = "zh-CN" if self.lang == "zh" else "en-US"
        props.revision = 1

    def east_asian(self) -> None:
        """The East-Asian font of every style (docDefaults included) and zh-CN tagging."""
        styles = self.doc.styles.element
        for fonts in styles.iter(qn("w:rFonts")):
            if fonts.get(qn("w:eastAsiaTheme")) is not None:
                del fonts.attrib[qn("w:eastAsiaTheme")]
            fonts.set(qn("w:eastAsia"), EAST_ASIAN_FONT)
        for lang in styles.iter(qn("w:lang")):
            lang.set(qn("w:eastAsia"), "zh-CN")
        normal = cast(ParagraphStyle, self.doc.styles["Normal"])
        normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), EAST_ASIAN_FONT)


def _font_table(xml: bytes) -> bytes:
    """The font table with an entry naming SimSun as the alternate of the East-Asian font."""
    return xml.replace(b"</w:fonts>", _FONT_ENTRY + b"</w:fonts>", 1)


def render_docx(report: Report) -> bytes:
    """The report as a DOCX document (see the module doc)."""
    writer = _Writer(report)
    writer.setup()
    writer.title_page()
    for section in report.sections:
        writer.section(section)
    writer.methodology()
    writer.indexes()
    writer.lineage()
    writer.colophon()
    buffer = io.BytesIO()
    writer.doc.save(buffer)
    return stable_zip(buffer.getvalue(), {"word/fontTable.xml": _font_table})
