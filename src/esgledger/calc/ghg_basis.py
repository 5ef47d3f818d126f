"""The GHG basis of an inventory (setting ``ghg_basis``): which gases of which sources count.

- ``ghg_protocol`` (default): every gas of every source, as the GHG Protocol Corporate
  Standard and ISO 14064-1 require;
- ``cn_guideline``: fuel combustion counts its CO2 only, as the MEE industry accounting and
  reporting guidelines (and GB/T 32150-2015's sector guides) do; every other source as above.
"""

from __future__ import annotations

import pandas as pd

from esgledger.domain.diagnostics import Diagnostic, Severity
from esgledger.factors.resolve import CalcSettings


def on_basis(lines: pd.DataFrame, settings: CalcSettings) -> tuple[pd.DataFrame, list[Diagnostic]]:
    """The lines the GHG basis counts. ``cn_guideline`` leaves out the CH4 and N2O of fuel
    combustion (the MEE industry accounting guidelines count its CO2 only) and says, per
    year, how much the ``ghg_protocol`` basis adds: both totals are then known."""
    if settings.ghg_basis != "cn_guideline" or lines.empty:
        return lines, []
    out = lines["method"].eq("combustion") & lines["gas"].ne("CO2")
    left = lines[out].groupby("year")["tco2e"].sum()
    notes = [
        Diagnostic(
            "ghg-basis",
            f"{int(year)}: ghg_basis cn_guideline counts the CO2 of fuel combustion only (MEE "
            f"industry accounting guidelines); its CH4 and N2O, {float(t):,.4f} tCO2e of "
            "scope 1, are left out (the ghg_protocol basis counts them)",
            Severity.INFO,
        )
        for year, t in zip(left.index.astype(int), left.to_numpy(), strict=True)
    ]
    return lines[~out].reset_index(drop=True), notes
