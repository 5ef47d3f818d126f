"""The sustainability report: a model built from the ledger (:mod:`.build`), rendered to
HTML, PDF, DOCX and XLSX (:mod:`.html`, :mod:`.pdf`, :mod:`.word`, :mod:`.workbook`), with
a content index per framework the registry declares one for (GRI, SZSE guideline No. 17:
:mod:`.indexes`) and the methodology appendix (:mod:`.methodology`)."""

from __future__ import annotations

from esgledger.report.build import build_report
from esgledger.report.model import FORMATS, LANGS, Report

MEDIA_TYPES = {
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
EXTENSIONS = {fmt: f".{fmt}" for fmt in FORMATS}


def render(report: Report, fmt: str) -> bytes:
    """The report in one output format (``html``, ``pdf``, ``docx`` or ``xlsx``).

    Each renderer is imported when used: WeasyPrint, python-docx and matplotlib take a second
    or more to load, which the web server and the other formats need not pay."""
    if fmt == "html":
        from esgledger.report.html import render_html  # noqa: PLC0415

        return render_html(report).encode("utf-8")
    if fmt == "pdf":
        from esgledger.report.pdf import render_pdf  # noqa: PLC0415

        return render_pdf(report)
    if fmt == "docx":
        from esgledger.report.word import render_docx  # noqa: PLC0415

        return render_docx(report)
    if fmt == "xlsx":
        from esgledger.report.workbook import render_xlsx  # noqa: PLC0415

        return render_xlsx(report)
    raise ValueError(f"format {fmt!r}: expected one of {', '.join(FORMATS)}")


def file_name(year: int, lang: str, fmt: str) -> str:
    return f"esgledger-report-{year}-{lang}{EXTENSIONS[fmt]}"


__all__ = ["FORMATS", "LANGS", "MEDIA_TYPES", "Report", "build_report", "file_name", "render"]
