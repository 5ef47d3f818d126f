"""The inventory settings a ledger stores (key/value text) as :class:`CalcSettings`: one rule
for every caller (the Book, the CLI's overrides, the web app)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from esgledger.domain.model import ConsolidationApproach
from esgledger.factors.resolve import CalcSettings

TEXT_KEYS = (
    "gwp_set",
    "grid_level",
    "natural_gas_tce",
    "ch4_convention",
    "scope2_total_basis",
    "grid_series",
    "ghg_basis",
)


def settings_from_stored(stored: Mapping[str, str], **overrides: object) -> CalcSettings:
    """Settings from the stored key/value text, with ``overrides`` applied (``None``
    overrides nothing)."""
    values: dict[str, object] = {k: stored[k] for k in TEXT_KEYS if k in stored}
    if "approach" in stored:
        values["approach"] = ConsolidationApproach(stored["approach"])
    if stored.get("factor_as_of"):
        values["factor_as_of"] = date.fromisoformat(stored["factor_as_of"])
    values.update({k: v for k, v in overrides.items() if v is not None})
    return CalcSettings(**values)  # type: ignore[arg-type]
