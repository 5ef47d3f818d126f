"""Framework reference tables packaged with the catalogue, used to validate its references.

The CSVs in ``metrics/data/frameworks/`` are unchanged copies of the research pack in
``../shared/reference/frameworks/`` (see the README beside them): GRI Standards 2021
disclosures, the SZSE self-regulatory guideline No. 17 articles and topics, IFRS S2
paragraphs, ESRS E1 disclosure requirements and the source list. Every row keeps its
``source_ids`` and ``verification`` columns, so a content index built from them can say how
far each reference was checked.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from types import MappingProxyType

FILES = {
    "gri": "gri_2021.csv",
    "szse17_articles": "szse17_articles.csv",
    "szse17_topics": "szse17_topics.csv",
    "issb_s2": "issb_s2_metrics.csv",
    "esrs": "esrs_e1.csv",
    "sources": "sources.csv",
}
"""Table name -> packaged file name."""

Row = Mapping[str, str]


def _read(name: str) -> tuple[Row, ...]:
    text = (
        resources.files("esgledger.metrics")
        .joinpath("data", "frameworks", name)
        .read_text(encoding="utf-8-sig")
    )
    return tuple(MappingProxyType(dict(row)) for row in csv.DictReader(io.StringIO(text)))


def _index(rows: tuple[Row, ...], key: str) -> Mapping[str, Row]:
    return MappingProxyType(
        {row[key].strip(): row for row in rows if row[key].strip() not in {"", "-"}}
    )


@dataclass(frozen=True, slots=True)
class Frameworks:
    """The reference tables, each indexed by its key column (rows keep every column)."""

    gri: Mapping[str, Row]
    """GRI disclosure code (``401-1``, ``2-7``) -> row of ``gri_2021.csv``."""
    szse17_articles: Mapping[int, Row]
    """SZSE guideline No. 17 article number (1-63) -> row of ``szse17_articles.csv``."""
    szse17_topics: Mapping[int, Row]
    """SZSE topic number (1-21) -> row of ``szse17_topics.csv``."""
    issb_s2: Mapping[str, Row]
    """IFRS S2 paragraph as written in ``issb_s2_metrics.csv`` (``29(a)(i)(1)``) -> row."""
    esrs: Mapping[str, Row]
    """ESRS disclosure requirement (``E1-6``, ``ESRS 2 GOV-3``) -> row of ``esrs_e1.csv``."""
    sources: Mapping[str, Row]
    """Source id (``S01``) -> row of ``sources.csv``."""

    def has_gri(self, code: str) -> bool:
        return code in self.gri

    def has_szse17(self, article: int) -> bool:
        return article in self.szse17_articles

    def has_issb_s2(self, paragraph: str) -> bool:
        """A paragraph of the table, or the first part of a listed one (``29(a)(i)(2)`` of
        ``29(a)(i)(2),(v)``)."""
        return paragraph in self.issb_s2 or any(
            key.split(",")[0] == paragraph for key in self.issb_s2
        )

    def has_esrs(self, requirement: str) -> bool:
        return requirement in self.esrs


@lru_cache(maxsize=1)
def load_frameworks() -> Frameworks:
    """The packaged reference tables, read once."""
    articles = _read(FILES["szse17_articles"])
    topics = _read(FILES["szse17_topics"])
    return Frameworks(
        gri=_index(_read(FILES["gri"]), "disclosure"),
        szse17_articles=MappingProxyType(
            {int(row["article_no"]): row for row in articles if row["article_no"].isdigit()}
        ),
        szse17_topics=MappingProxyType(
            {int(row["topic_no"]): row for row in topics if row["topic_no"].isdigit()}
        ),
        issb_s2=_index(_read(FILES["issb_s2"]), "ifrs_s2_paragraph"),
        esrs=_index(_read(FILES["esrs"]), "disclosure_requirement"),
        sources=_index(_read(FILES["sources"]), "source_id"),
    )
