"""Charts of the supervisor's dashboard as inline SVG, drawn on the server.

Accessible and CSP-safe: each chart is `role="img"` named by its `<title>` and described
by its `<desc>`, every bar carries its label and number as text (colour never carries
meaning alone: the two lines of a time chart differ by dash and marker shape too), and colours
come from classes of the hub's stylesheet (no inline `style`). The page always shows the
same numbers in a table beside the chart; the chart works printed and without JavaScript.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

__all__ = ["Bar", "Line", "bars", "lines"]

WIDTH = 480
ROW = 26
LABEL_W = 190
VALUE_W = 46
MAX_LABEL = 24


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    #: a modifier of the bar's class (`late`, `reason`...), for the stylesheet's colour
    variant: str = ""


@dataclass(frozen=True)
class Line:
    label: str
    values: Sequence[float | None]
    variant: str  # median | p90: the stylesheet's dash and the marker's shape


def _short(text: str) -> str:
    return text if len(text) <= MAX_LABEL else text[: MAX_LABEL - 1] + "…"


def _frame(chart_id: str, title: str, desc: str, height: int, body: list[str]) -> Markup:
    head = (
        f'<svg class="chart" role="img" viewBox="0 0 {WIDTH} {height}" '
        f'aria-labelledby="{escape(chart_id)}-title" aria-describedby="{escape(chart_id)}-desc" '
        f'preserveAspectRatio="xMinYMin meet" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{escape(chart_id)}-title">{escape(title)}</title>'
        f'<desc id="{escape(chart_id)}-desc">{escape(desc)}</desc>'
    )
    return Markup(head + "".join(body) + "</svg>")  # noqa: S704 - every text is escaped above


def bars(chart_id: str, title: str, desc: str, items: Sequence[Bar]) -> Markup:
    """Horizontal bars, one row per item: its label, the bar, its number."""
    height = max(1, len(items)) * ROW + 8
    top = max((b.value for b in items), default=0) or 1
    span = WIDTH - LABEL_W - VALUE_W
    body = [f'<line class="chart__axis" x1="{LABEL_W}" y1="2" x2="{LABEL_W}" y2="{height - 4}"/>']
    for i, bar in enumerate(items):
        y = 4 + i * ROW
        width = round(span * bar.value / top) if bar.value else 0
        variant = f" chart__bar--{escape(bar.variant)}" if bar.variant else ""
        body.append(
            f'<text class="chart__label" x="{LABEL_W - 6}" y="{y + 16}" text-anchor="end">'
            f"{escape(_short(bar.label))}</text>"
            f'<rect class="chart__bar{variant}" x="{LABEL_W}" y="{y + 2}" '
            f'width="{width}" height="{ROW - 8}"/>'
            f'<text class="chart__value" x="{LABEL_W + width + 6}" y="{y + 16}">'
            f"{bar.value}</text>"
        )
    return _frame(chart_id, title, desc, height, body)


def _marker(variant: str, x: float, y: float) -> str:
    if variant == "p90":
        return (
            f'<rect class="chart__mark chart__mark--p90" x="{x - 4}" y="{y - 4}" '
            'width="8" height="8"/>'
        )
    return f'<circle class="chart__mark chart__mark--median" cx="{x}" cy="{y}" r="4"/>'


def lines(
    chart_id: str, title: str, desc: str, labels: Sequence[str], series: Sequence[Line], unit: str
) -> Markup:
    """Lines over time (one point per period label), with a legend, a scale in `unit`
    and each point's number; a period without data leaves a gap."""
    left, right, top_pad = 44, 12, 30
    bottom = 30 + 22 * len(series)  # the period labels, then one legend line per series
    height = 190 + bottom
    plot_h = height - top_pad - bottom
    known = [v for s in series for v in s.values if v is not None]
    top = max(known, default=0.0) or 1.0
    count = max(1, len(labels))
    step = (WIDTH - left - right) / count

    def x_at(i: int) -> float:
        return round(left + step * (i + 0.5), 1)

    def y_at(v: float) -> float:
        return round(top_pad + plot_h * (1 - v / top), 1)

    body = []
    for k in range(5):  # the scale: 0, ¼, ½, ¾, top
        value = top * k / 4
        y = y_at(value)
        body.append(
            f'<line class="chart__grid" x1="{left}" y1="{y}" x2="{WIDTH - right}" y2="{y}"/>'
            f'<text class="chart__tick" x="{left - 4}" y="{y + 4}" text-anchor="end">'
            f"{value:.0f}</text>"
        )
    body.append(f'<text class="chart__tick" x="4" y="{top_pad - 14}">{escape(unit)}</text>')
    every = max(1, round(count / 8))  # at most about eight period labels under the axis
    for i, label in enumerate(labels):
        if i % every == 0:
            body.append(
                f'<text class="chart__tick" x="{x_at(i)}" y="{height - bottom + 16}" '
                f'text-anchor="middle">{escape(label)}</text>'
            )
    for n, line in enumerate(series):
        variant = escape(line.variant)
        runs: list[list[tuple[float, float]]] = [[]]
        for i, v in enumerate(line.values):
            if v is None:
                runs.append([])
                continue
            runs[-1].append((x_at(i), y_at(v)))
        for run in runs:
            if len(run) > 1:
                points = " ".join(f"{x},{y}" for x, y in run)
                body.append(
                    f'<polyline class="chart__line chart__line--{variant}" points="{points}"/>'
                )
        for i, v in enumerate(line.values):
            if v is not None:
                body.append(_marker(line.variant, x_at(i), y_at(v)))
        legend_x = left
        legend_y = height - bottom + 44 + n * 22
        body.append(
            f'<line class="chart__line chart__line--{variant}" x1="{legend_x}" '
            f'y1="{legend_y - 4}" x2="{legend_x + 24}" y2="{legend_y - 4}"/>'
            + _marker(line.variant, legend_x + 12, legend_y - 4)
            + f'<text class="chart__label" x="{legend_x + 30}" y="{legend_y}">'
            f"{escape(line.label)}</text>"
        )
    return _frame(chart_id, title, desc, height, body)
