"""Charts of the report: inline SVG for HTML and PDF, PNG for DOCX (matplotlib, object API).

One drawing function per :attr:`Chart.kind`:

- ``stacked_bar_line``: bars stacked by :attr:`Series.stack` (series without a stack stand
  beside them), ``line`` series on a secondary right axis, a legend below, ``y_label`` and
  ``y2_label`` as axis labels, the categories (years) under the bars;
- ``pie``: one wedge per category, a legend naming each wedge with its figure;
- ``bar``: one bar per category (several series: grouped bars);
- ``matrix``: the double-materiality matrix, a scatter of series 0 (x) against series 1 (y)
  with the categories as point labels.

Numbers: the only numbers drawn are :meth:`Figure.text` of the chart's figures, as value
labels on the bars, points and legend entries. The value axes carry no tick labels (a tick
label would be a number formatted here, not a figure of the ledger); gridlines keep the
proportions readable. Wedge shares are not shown: the model holds no share figures.

Text stays text: SVG is written with ``svg.fonttype = none`` and the CJK font family (Noto
Sans CJK SC when installed), so WeasyPrint and browsers set the Chinese labels themselves.
The SVG is made to sit inside an HTML page: no XML prolog or metadata, element ids dropped
except those referenced (clip paths, markers), which are prefixed with the chart's block id so
that several charts never share an id. Output is deterministic (fixed ``svg.hashsalt``, no
date): the same chart always gives the same SVG and PNG.

The chart title is not drawn: HTML prints it as the figure caption, DOCX as a caption below.
"""

from __future__ import annotations

import io
import math
import re
import threading
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any, Literal

import matplotlib
from matplotlib import font_manager
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.backends.backend_svg import FigureCanvasSVG
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure as PlotFigure
from matplotlib.patches import Patch
from matplotlib.typing import RcKeyType

from esgledger.report.model import Chart, Figure, Series

CJK_FAMILIES = (
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "Noto Sans SC",
    "WenQuanYi Zen Hei",
    "Noto Sans CJK JP",
)
"""CJK font families in order of preference (matplotlib family names)."""
CJK_FILES = (
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
    Path("/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc"),
    Path("/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc"),
)
"""Where Linux distributions install Noto Sans CJK, registered when matplotlib missed it."""
FALLBACK_FAMILY = "DejaVu Sans"

SIZE = (6.4, 3.6)
"""Figure size in inches: a PNG is ``SIZE * dpi`` pixels."""
PIE_SIZE = (6.4, 3.2)
MATRIX_SIZE = (6.4, 5.0)
"""The matrix is taller: its key of numbered topics sits below the plot."""
PALETTE = ("#1b6e53", "#4fa37f", "#9ccfb4", "#2f6f9f", "#86b5d9", "#c9a227", "#7d5ba6", "#b0b0b0")
LINE_COLOUR = "#d9822b"
TEXT_COLOUR = "#333333"
GRID_COLOUR = "#e3e3e3"
HASH_SALT = "esgledger"
LABEL_MIN_SHARE = 0.07
"""A stacked segment shorter than this share of the axis gets no value label (it would not
fit); its figure is in the chart's data table (HTML) and in the lineage appendix (PDF)."""

_LOCK = threading.Lock()
"""matplotlib's rcParams are process-wide: charts are drawn one at a time."""
_ID = re.compile(r'\sid="([^"]*)"')
_REF = re.compile(r'(url\(#|href="#)([^)"]+)')


@cache
def cjk_font() -> str | None:
    """The CJK font family the charts use, or None (with a warning) when none is installed."""
    names = {f.name for f in font_manager.fontManager.ttflist}
    for family in CJK_FAMILIES:
        if family in names:
            return family
    for path in CJK_FILES:
        if path.is_file():
            font_manager.fontManager.addfont(str(path))
            names = {f.name for f in font_manager.fontManager.ttflist}
            for family in CJK_FAMILIES:
                if family in names:
                    return family
    warnings.warn(
        "no CJK font found (install fonts-noto-cjk): Chinese chart labels will not render",
        RuntimeWarning,
        stacklevel=2,
    )
    return None


def _rc() -> dict[RcKeyType, Any]:
    family = cjk_font()
    return {
        "font.family": [family, FALLBACK_FAMILY] if family else [FALLBACK_FAMILY],
        "font.size": 9,
        "svg.fonttype": "none",
        "svg.hashsalt": HASH_SALT,
        "axes.unicode_minus": False,
        "text.color": TEXT_COLOUR,
        "axes.labelcolor": TEXT_COLOUR,
        "xtick.color": TEXT_COLOUR,
        "ytick.color": TEXT_COLOUR,
        "axes.edgecolor": "#999999",
    }


@contextmanager
def _style() -> Iterator[None]:
    with _LOCK, matplotlib.rc_context(_rc()):
        yield


def _value(figure: Figure) -> float:
    """The figure's value for drawing (NaN when missing: not drawn)."""
    return math.nan if figure.missing or figure.value is None else float(figure.value)


def _label(figure: Figure) -> str:
    return figure.text()


def _plain_axis(ax: Axes, axis: Literal["x", "y"] = "y") -> None:
    """A value axis without tick labels (only figures are printed), light gridlines."""
    ax.tick_params(axis=axis, length=0, labelleft=False, labelright=False, labelbottom=False)
    ax.grid(axis=axis, color=GRID_COLOUR, linewidth=0.6)
    ax.set_axisbelow(True)


def _frame(ax: Axes) -> None:
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)


def _legend(plot: PlotFigure, handles: Sequence[Any], labels: Sequence[str]) -> None:
    if handles:
        plot.legend(
            handles,
            labels,
            loc="outside lower center",
            ncols=min(len(handles), 4),
            frameon=False,
            handlelength=1.2,
        )


def _category_axis(ax: Axes, categories: Sequence[str]) -> None:
    ax.set_xticks(range(len(categories)), list(categories))
    long = len(categories) > 6 or any(len(c) > 10 for c in categories)
    ax.tick_params(axis="x", length=0, labelrotation=30 if long else 0)
    if long:
        for text in ax.get_xticklabels():
            text.set_horizontalalignment("right")


def _text_colour(fill: str) -> str:
    """White on a dark fill, the text colour on a light one."""
    r, g, b = to_rgb(fill)
    return "white" if 0.299 * r + 0.587 * g + 0.114 * b < 0.55 else TEXT_COLOUR


def _stacks(ax: Axes, chart: Chart, bars: Sequence[Series]) -> tuple[list[Any], float]:
    """Bars stacked by stack name (a series without one stands alone), value labels inside
    segments tall enough for them; the legend handles and the highest stack."""
    n = len(chart.categories)
    keys = [s.stack if s.stack is not None else f"\0{s.name}" for s in bars]
    stacks = list(dict.fromkeys(keys))
    width = 0.7 / max(len(stacks), 1)
    tops = [[0.0] * n for _ in stacks]
    segments: list[tuple[float, float, float, Figure, str]] = []
    handles: list[Any] = []
    for i, (s, key) in enumerate(zip(bars, keys, strict=True)):
        k = stacks.index(key)
        colour = PALETTE[i % len(PALETTE)]
        x = [c + (k - (len(stacks) - 1) / 2) * width for c in range(n)]
        drawn = [0.0 if math.isnan(v) else v for v in map(_value, s.figures[:n])]
        bottoms = list(tops[k])
        handles.append(ax.bar(x, drawn, width * 0.9, bottom=bottoms, color=colour, linewidth=0))
        for c, (h, f) in enumerate(zip(drawn, s.figures[:n], strict=True)):
            if not f.missing:
                segments.append((x[c], bottoms[c] + h / 2, h, f, colour))
            tops[k][c] += h
    top = max((max(t, default=0.0) for t in tops), default=0.0) or 1.0
    for centre, middle, h, f, fill in segments:
        if h >= top * LABEL_MIN_SHARE:
            ink = _text_colour(fill)
            ax.text(centre, middle, _label(f), ha="center", va="center", fontsize=7, color=ink)
    return handles, top


def _lines(ax: Axes, chart: Chart, lines: Sequence[Series], first: int) -> list[Any]:
    """Line series with their figures above the points; the legend handles."""
    n = len(chart.categories)
    handles: list[Any] = []
    for j, s in enumerate(lines, start=first):
        colour = LINE_COLOUR if j == 0 else PALETTE[-(j + 1) % len(PALETTE)]
        ys = [_value(f) for f in s.figures[:n]]
        (handle,) = ax.plot(range(n), ys, color=colour, marker="o", markersize=4)
        handles.append(handle)
        for c, (y, f) in enumerate(zip(ys, s.figures[:n], strict=True)):
            if not math.isnan(y):
                ax.annotate(
                    _label(f),
                    (c, y),
                    xytext=(0, 6),
                    textcoords="offset points",
                    ha="center",
                    va="bottom",
                    fontsize=7,
                    color=colour,
                )
    return handles


def _stacked_bar_line(plot: PlotFigure, chart: Chart) -> None:
    ax = plot.add_subplot()
    _frame(ax)
    bars = [s for s in chart.series if s.kind != "line"]
    left = [s for s in chart.series if s.kind == "line" and s.axis == "left"]
    right = [s for s in chart.series if s.kind == "line" and s.axis == "right"]
    handles, top = _stacks(ax, chart, bars)
    # room above the bars for the lines of the right axis
    ax.set_ylim(0, top * (1.6 if right else 1.15))
    handles += _lines(ax, chart, left, first=1)
    _category_axis(ax, chart.categories)
    _plain_axis(ax)
    if chart.y_label:
        ax.set_ylabel(chart.y_label)
    if right:
        ax2 = ax.twinx()
        ax2.spines[["top", "left", "bottom", "right"]].set_visible(False)
        ax2.tick_params(axis="y", length=0, labelright=False)
        n = len(chart.categories)
        values = [v for s in right for v in map(_value, s.figures[:n]) if not math.isnan(v)]
        low, high = (min(values), max(values)) if values else (0.0, 1.0)
        span = (high - low) or abs(high) or 1.0
        # the lines in the upper part of the plot (72-88 % of its height), clear of the bars
        extent = span / 0.16
        ax2.set_ylim(low - 0.72 * extent, low + 0.28 * extent)
        handles += _lines(ax2, chart, right, first=0)
        if chart.y2_label:
            ax2.set_ylabel(chart.y2_label, color=LINE_COLOUR)
    _legend(plot, handles, [s.name for s in (*bars, *left, *right)])


def _pie(plot: PlotFigure, chart: Chart) -> None:
    ax = plot.add_subplot()
    series = chart.series[0] if chart.series else Series("", ())
    wedges: list[float] = []
    colours: list[str] = []
    handles: list[Any] = []
    names: list[str] = []
    for i, (category, f) in enumerate(zip(chart.categories, series.figures, strict=False)):
        colour = PALETTE[i % len(PALETTE)]
        value = _value(f)
        if not math.isnan(value) and value > 0:
            wedges.append(value)
            colours.append(colour)
        handles.append(Patch(color=colour))
        unit = f" {f.unit}" if f.unit and not f.missing else ""
        names.append(f"{category}  {_label(f)}{unit}")
    if wedges:
        ax.pie(
            wedges,
            colors=colours,
            startangle=90,
            counterclock=False,
            wedgeprops={"linewidth": 1, "edgecolor": "white", "width": 0.45},
        )
    ax.set_aspect("equal")
    ax.axis("off")
    plot.legend(handles, names, loc="outside right center", frameon=False, handlelength=1.0)


def _bar(plot: PlotFigure, chart: Chart) -> None:
    ax = plot.add_subplot()
    _frame(ax)
    n = len(chart.categories)
    count = max(len(chart.series), 1)
    width = min(0.7 / count, 0.45)
    for i, s in enumerate(chart.series):
        x = [c + (i - (count - 1) / 2) * width for c in range(n)]
        heights = [_value(f) for f in s.figures[:n]]
        drawn = [0.0 if math.isnan(h) else h for h in heights]
        colour = PALETTE[i % len(PALETTE)]
        ax.bar(x, drawn, width * 0.9, color=colour, linewidth=0, label=s.name)
        for c, f in enumerate(s.figures[:n]):
            ax.annotate(
                _label(f),
                (x[c], drawn[c]),
                xytext=(0, 3),
                textcoords="offset points",
                ha="center",
                va="bottom",
                fontsize=7,
            )
    values = (_value(f) for s in chart.series for f in s.figures)
    top = max((v for v in values if not math.isnan(v)), default=0.0)
    ax.set_ylim(0, (top if top > 0 else 1.0) * 1.15)
    _category_axis(ax, chart.categories)
    _plain_axis(ax)
    if chart.y_label:
        ax.set_ylabel(chart.y_label)
    if len(chart.series) > 1:
        handles, names = ax.get_legend_handles_labels()
        _legend(plot, handles, names)


def _key(i: int) -> str:
    """A, B, ..., Z, AA, AB, ...: the key of the ``i``-th point (letters, not numbers: the
    only digits a chart draws are figures)."""
    letters = ""
    i += 1
    while i:
        i, rest = divmod(i - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def _matrix(plot: PlotFigure, chart: Chart) -> None:
    """Points keyed by letters (in the chart's category order) with the key below: names next
    to clustered points would overlap. ``guides`` are drawn as dashed threshold lines."""
    ax = plot.add_subplot()
    if len(chart.series) < 2:
        ax.axis("off")
        return
    xs_series, ys_series = chart.series[0], chart.series[1]
    handles, names = [], []
    for i, (category, fx, fy) in enumerate(
        zip(chart.categories, xs_series.figures, ys_series.figures, strict=False)
    ):
        x, y = _value(fx), _value(fy)
        if math.isnan(x) or math.isnan(y):
            continue
        colour = PALETTE[i % len(PALETTE)]
        handles.append(ax.scatter([x], [y], s=22, color=colour, zorder=3))
        names.append(f"{_key(i)} {category}")
        ax.annotate(
            _key(i),
            (x, y),
            xytext=(4, 2 + 5 * (i % 3)),
            textcoords="offset points",
            fontsize=6,
            color=colour,
        )
    for position, value in zip(("x", "y"), chart.guides, strict=False):
        line = ax.axvline if position == "x" else ax.axhline
        line(value, color=GRID_COLOUR, linewidth=1.0, linestyle="--", zorder=1)
    ax.margins(0.15)
    ax.tick_params(length=0, labelleft=False, labelbottom=False)
    ax.grid(color=GRID_COLOUR, linewidth=0.6)
    ax.set_axisbelow(True)
    ax.spines[["top", "right"]].set_visible(False)
    ax.set_xlabel(xs_series.name)
    ax.set_ylabel(chart.y_label or ys_series.name)
    if handles:
        plot.legend(
            handles,
            names,
            loc="outside lower center",
            ncols=3,
            frameon=False,
            fontsize=6,
            handlelength=0.8,
            columnspacing=1.0,
        )


def _macc_clip(costs: Sequence[float]) -> float:
    """The largest |cost| drawn to scale: an outlier (over three times the next) is clipped at
    one and a half times the next, so that it does not flatten every other bar."""
    sizes = sorted((abs(c) for c in costs), reverse=True)
    if len(sizes) >= 2 and sizes[1] > 0 and sizes[0] > 3 * sizes[1]:
        return 1.5 * sizes[1]
    return sizes[0] if sizes else 1.0


def _macc(plot: PlotFigure, chart: Chart) -> None:
    """Variable-width bars: each measure as wide as its abatement, as high as its cost per
    tonne (savings below the axis), laid end to end in the chart's order; keyed by letters
    with the names and the cost in the legend (as the matrix), no tick labels. A bar beyond
    :func:`_macc_clip` is cut there and hatched (its figure is in the legend)."""
    ax = plot.add_subplot()
    if len(chart.series) < 2:
        ax.axis("off")
        return
    costs, widths = chart.series[0], chart.series[1]
    bars = [
        (i, category, cost, _value(cost), _value(width))
        for i, (category, cost, width) in enumerate(
            zip(chart.categories, costs.figures, widths.figures, strict=False)
        )
    ]
    bars = [b for b in bars if not math.isnan(b[3]) and not math.isnan(b[4]) and b[4] > 0]
    clip = _macc_clip([b[3] for b in bars])
    left = 0.0
    handles: list[Any] = []
    names: list[str] = []
    low, high = 0.0, 0.0
    for i, category, cost, c, w in bars:
        drawn = max(-clip, min(clip, c))
        colour = PALETTE[i % len(PALETTE)]
        handles.append(
            ax.bar(
                left,
                drawn,
                w,
                align="edge",
                color=colour,
                edgecolor="white",
                linewidth=0.5,
                hatch="///" if drawn != c else None,
            )
        )
        names.append(f"{_key(i)} {category} ({_label(cost)})")
        ax.annotate(
            _key(i),
            (left + w / 2, drawn),
            xytext=(0, 3 if drawn >= 0 else -3),
            textcoords="offset points",
            ha="center",
            va="bottom" if drawn >= 0 else "top",
            fontsize=6,
            color=colour,
        )
        left += w
        low, high = min(low, drawn), max(high, drawn)
    span = (high - low) or 1.0
    ax.set_ylim(low - 0.1 * span if low < 0 else 0, high + 0.1 * span)
    ax.set_xlim(0, left or 1.0)
    ax.axhline(0, color=TEXT_COLOUR, linewidth=0.6)
    _frame(ax)
    ax.tick_params(length=0, labelleft=False, labelbottom=False)
    ax.grid(axis="y", color=GRID_COLOUR, linewidth=0.6)
    ax.set_axisbelow(True)
    ax.set_xlabel(widths.name)
    ax.set_ylabel(chart.y_label or costs.name)
    if handles:
        plot.legend(
            handles,
            names,
            loc="outside lower center",
            ncols=2,
            frameon=False,
            fontsize=6,
            handlelength=0.8,
            columnspacing=1.0,
        )


_DRAW: dict[str, Callable[[PlotFigure, Chart], None]] = {
    "stacked_bar_line": _stacked_bar_line,
    "pie": _pie,
    "bar": _bar,
    "matrix": _matrix,
    "macc": _macc,
}


def _figure(chart: Chart) -> PlotFigure:
    """The chart drawn on a new matplotlib figure (inside :func:`_style`)."""
    draw = _DRAW.get(chart.kind)
    if draw is None:
        raise ValueError(f"chart {chart.block_id}: unknown kind {chart.kind!r}")
    plot = PlotFigure(figsize=_size(chart), layout="constrained")
    draw(plot, chart)
    return plot


def _inline(svg_text: str, prefix: str, title: str) -> str:
    """matplotlib's SVG document made an element for an HTML page (see the module doc)."""
    start = svg_text.index("<svg")
    body = re.sub(r"\s*<metadata>.*?</metadata>", "", svg_text[start:], count=1, flags=re.DOTALL)
    referenced = {m.group(2) for m in _REF.finditer(body)}

    def rename(match: re.Match[str]) -> str:
        name = match.group(1)
        return f' id="{prefix}{name}"' if name in referenced else ""

    body = _ID.sub(rename, body)
    body = _REF.sub(lambda m: f"{m.group(1)}{prefix}{m.group(2)}", body)
    # matplotlib's default style rule, scoped to the charts (it would apply to the whole page)
    body = body.replace('<style type="text/css">*{', '<style type="text/css">svg.chart *{', 1)
    label = title.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
    return body.replace("<svg ", f'<svg class="chart" role="img" aria-label="{label}" ', 1).strip()


def svg(chart: Chart, lang: str) -> str:
    """The chart as an inline ``<svg>`` element (text as text, deterministic).

    ``lang`` is the report's language; every word drawn comes from the chart itself."""
    del lang  # the chart's words are already in the report's language
    prefix = re.sub(r"[^A-Za-z0-9_-]", "-", chart.block_id) + "-"
    buffer = io.StringIO()
    with _style():
        plot = _figure(chart)
        FigureCanvasSVG(plot)
        plot.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    return _inline(buffer.getvalue(), prefix, chart.title)


def png(chart: Chart, lang: str, dpi: int = 200) -> bytes:
    """The chart as a PNG image of ``SIZE * dpi`` pixels (deterministic)."""
    del lang
    buffer = io.BytesIO()
    with _style():
        plot = _figure(chart)
        FigureCanvasAgg(plot)
        plot.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None})
    return buffer.getvalue()


def _size(chart: Chart) -> tuple[float, float]:
    return {"pie": PIE_SIZE, "matrix": MATRIX_SIZE, "macc": MATRIX_SIZE}.get(chart.kind, SIZE)


def size(chart: Chart, dpi: int = 200) -> tuple[int, int]:
    """The pixel size of :func:`png` for ``chart`` at ``dpi``."""
    width, height = _size(chart)
    return round(width * dpi), round(height * dpi)
