"""The report as PDF: the print HTML of :func:`esgledger.report.html.render_html` through
WeasyPrint.

Layout is the HTML's print CSS (``templates/print.css``): A4, numbered pages, a page break
before each level-1 section, repeated table headers, page numbers in the table of contents
and the "Figure lineage" appendix. Chinese text is set in Noto Sans CJK SC (the CSS font list:
"Noto Sans CJK SC", "Noto Sans CJK", ..., sans-serif; fontconfig finds the installed files).

Deterministic: the PDF's creation and modification dates are ``Report.meta['built_at']``
(the page's ``dcterms.created`` and ``dcterms.modified``), or absent without one, and
WeasyPrint derives the rest from the content: one report gives the same bytes every time.
"""

from __future__ import annotations

from esgledger.report.html import render_html
from esgledger.report.model import Report


def render_pdf(report: Report) -> bytes:
    """The report as a PDF document (A4, see the module doc)."""
    # imported when used: WeasyPrint takes a second to load; it ships no type information
    from weasyprint import HTML  # type: ignore[import-untyped]  # noqa: PLC0415

    document = HTML(string=render_html(report, for_pdf=True), base_url=None)
    return bytes(document.write_pdf(uncompressed_pdf=False))
