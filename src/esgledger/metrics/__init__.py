"""The metric catalogue: every ESG figure esgledger knows, as data.

One CSV per pillar in ``metrics/data/`` (``catalogue_environment.csv``,
``catalogue_social.csv``, ``catalogue_governance.csv``; columns documented in
``metrics/data/README.md``) declares each metric once:

- **identity**: a dotted lowercase id (``workforce.headcount.female``), English and Chinese
  names, the pillar (E, S, G) and a one-paragraph definition;
- **unit**: ``unit`` is a spelling the project's unit registry reads
  (:func:`esgledger.units.parse_unit`): the seed report's own unit where it parses (``L``,
  ``m3``, ``MWh``, ``tce``, ``tCO2e``, ``t``, ``persons``, ``h``, ``%``, ``10k CNY``,
  ``100M CNY``), ``count`` for counts of things other than persons (patents, incidents,
  suppliers, meetings, attendances), ``dimensionless`` for scores, and quotient units for
  intensities and per-capita figures (``tCO2e/wan_yuan``, ``h/person``,
  ``count/megahour``). ``unit_label`` / ``unit_label_zh`` are what a report prints (``items``
  / ``件``, ``points`` / ``分``);
- **derivation**: ``input`` (entered or imported) or ``computed`` (from a roster, the
  inventory engine or other metrics), with a short ``formula`` that names the metric ids it
  uses;
- **aggregation across entities**: ``sum``; ``weighted_mean`` with a ``weight`` metric;
  ``ratio`` with a ``numerator`` and ``denominator`` metric, recomputed from their combined
  values and never summed or averaged; ``latest``, ``max``, ``min``; or ``none`` (reported for
  the group only, e.g. the board, distinct supplier counts). ``scale`` is the presentation
  multiplier of a ratio (100 for a percentage, 1,000,000 for a rate per million hours, else 1):
  with numerator N and denominator D as quantities in their catalogue units, the figure is
  ``(N / D)`` converted to ``unit``;
- **time**: ``period_rule`` ``flow`` (summed over the period), ``stock`` (value at period end)
  or ``rate`` (recomputed for the combined period from its parts);
- **breakdowns**: ``parent`` / ``dimension`` / ``member`` (``workforce.headcount.male`` is the
  ``male`` member of ``workforce.headcount`` by ``gender``). The members of a flow or stock
  parent add up to it; the breakdown of a rate is structural (the check compares the
  breakdowns of its numerator and denominator instead);
- **precision**: decimals the seed report publishes, for rounding-tolerant comparisons;
- **framework references**: one column per framework id of the registry
  (:mod:`esgledger.metrics.frameworks`: ``gri`` GRI 2021 disclosures, ``szse17`` SZSE
  guideline No. 17 articles, ``issb_s2`` IFRS S2 paragraphs, ``esrs`` ESRS disclosure
  requirements), each checked against the framework's table
  (:meth:`Metric.cites` reads them); every metric references a framework with a content
  index (GRI or SZSE);
- **seed_row**: the row of the seed group's 2024 key performance table the metric reproduces.

:func:`load_catalogue` reads and validates the files once and returns an immutable
:class:`Catalogue`; :func:`read_catalogue` returns the located diagnostics instead of raising.
"""

from esgledger.metrics.catalogue import (
    COLUMNS,
    PILLAR_FILES,
    Aggregation,
    Breakdown,
    Catalogue,
    CatalogueError,
    Kind,
    Metric,
    PeriodRule,
    Pillar,
    load_catalogue,
    read_catalogue,
)
from esgledger.metrics.frameworks import Framework, FrameworkError, Frameworks, load_frameworks
from esgledger.metrics.sources import ledger_sources

__all__ = [
    "COLUMNS",
    "PILLAR_FILES",
    "Aggregation",
    "Breakdown",
    "Catalogue",
    "CatalogueError",
    "Framework",
    "FrameworkError",
    "Frameworks",
    "Kind",
    "Metric",
    "PeriodRule",
    "Pillar",
    "ledger_sources",
    "load_catalogue",
    "load_frameworks",
    "read_catalogue",
]
