"""The page's tree of a figure (one level at a time) against the whole tree of ``esgledger
explain``: the same values, only less listed."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from esgledger import figures
from esgledger.book import current_book
from esgledger.domain.figure_id import FigureId
from esgledger.figures.inventory import outline
from esgledger.store.ledger import Ledger

FIGURES = [
    f"{kind}:{year}:{code}{suffix}"
    for kind, code in (("ghg", "TOTAL"), ("ghg", "S1"), ("ghg", "S2M"), ("ghg", "S3"))
    for year in (2022, 2024)
    for suffix in ("", ":S01", ":S03", ":G00")
] + [f"energy:{year}{suffix}" for year in (2022, 2024) for suffix in ("", ":S01", ":S05")]


def _lines(node: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for c in node["children"] if "records" in c["detail"]]


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(figure=st.sampled_from(FIGURES), lines=st.integers(1, 6), rows=st.integers(1, 4))
def test_the_outline_lists_part_of_the_whole_tree_with_its_values(
    demo_ledger: Ledger, figure: str, lines: int, rows: int
) -> None:
    book = current_book(demo_ledger)
    fid = FigureId.parse(figure)
    shown = outline(book, fid, rows, lines)
    whole = figures.explain(demo_ledger, figure, rows=rows)
    assert shown.value == pytest.approx(whole.value)
    assert shown.kind == "figure"
    if fid.get("entity") is None:
        assert {c.kind for c in shown.children} <= {"entity"}
        assert sum(c.value or 0.0 for c in shown.children) == pytest.approx(whole.value or 0.0)
        for entity in shown.children:
            assert entity.figure is not None
            part = figures.explain(demo_ledger, entity.figure, rows=rows)
            assert entity.value == pytest.approx(part.value)
            assert all(c.children == [] for c in entity.children)  # no lines at this level
        return
    tree = shown.to_dict()
    reference = whole.to_dict()
    if fid.kind == "energy":
        branches = [(tree, reference)]
    else:
        by_label = {b["label"]: b for b in reference["children"]}
        assert [b["label"] for b in tree["children"]] == list(by_label)
        branches = [(b, by_label[b["label"]]) for b in tree["children"]]
    for branch, full in branches:
        listed, every = _lines(branch), _lines(full)
        assert len(listed) == min(lines, len(every))
        values = sorted((abs(c["value"]) for c in every), reverse=True)
        assert [abs(c["value"]) for c in listed] == pytest.approx(values[: len(listed)])
        hidden = [c for c in branch["children"] if c["label"].endswith(" more lines")]
        assert [c["detail"]["lines"] for c in hidden] == (
            [len(every) - lines] if len(every) > lines else []
        )
        full_by_label = {c["label"]: c for c in every}
        for line in listed:  # each line has the same source rows as in the whole tree
            assert line["children"] == full_by_label[line["label"]]["children"]
