"""One grammar for figure ids: parse and print are inverse; malformed ids name the form."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from esgledger.domain.figure_id import FigureId, figure_kinds
from esgledger.figures import provider

TEXT = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-", min_size=1
)


@st.composite
def figure_ids(draw: st.DrawFn) -> FigureId:
    kind = draw(st.sampled_from(sorted(figure_kinds())))
    values: list[str | int] = []
    for field in figure_kinds()[kind].fields:
        if field.optional and draw(st.booleans()):
            break
        if field.kind == "year":
            values.append(draw(st.integers(1000, 9999)))
        elif field.kind == "enum":
            values.append(draw(st.sampled_from(field.choices)))
        else:
            values.append(draw(TEXT))
    return FigureId(kind, tuple(values))


@given(figure_ids())
def test_printing_then_parsing_gives_the_same_id(fid: FigureId) -> None:
    assert FigureId.parse(str(fid)) == fid
    assert FigureId.of(fid.kind, *fid.values) == fid


def test_fields_by_name_and_the_first_year() -> None:
    fid = FigureId.parse("ghg:2024:s2l:S01")  # enums are read case-insensitively
    assert str(fid) == "ghg:2024:S2L:S01"
    assert (fid.year, fid.get("scope"), fid.get("entity")) == (2024, "S2L", "S01")
    assert FigureId.parse("ghg:2024:TOTAL").get("entity") is None
    assert FigureId.parse("register:bcm:2031:major").year == 2031
    with pytest.raises(KeyError):
        fid.get("axis")


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("ghg:2024", r"is not ghg:<year>:<S1\|S2L\|S2M\|S3\|TOTAL>\[:<entity>\]"),
        ("ghg:24:S1", "year must be a year, not '24'"),
        ("ghg:2024:S4", "scope must be one of S1, S2L, S2M, S3, TOTAL"),
        ("energy:2024:S01:extra", r"is not energy:<year>\[:<entity>\]"),
        ("metric:2024::S01", "metric_id is empty"),
        ("kpi:2024:ghg.total", "is not one of ghg:"),
        ("pathway:2024:plan:2030", "series must be one of bau, contraction, group, gap"),
    ],
)
def test_malformed_ids_say_what_is_expected(bad: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        FigureId.parse(bad)


def test_every_declared_kind_has_a_provider_with_a_source() -> None:
    for kind, declared in figure_kinds().items():
        found = provider(kind)
        assert callable(found.explain) and callable(found.value), kind
        assert declared.source and declared.description, kind
