"""Server-rendered SVG charts for Pusher → Overview: no script, no CDN, nothing vendored.

Each chart is one ``<svg>`` built from numbers; every text in it is escaped
by ``format_html``. The x axis labels (``x_labels``) are spread evenly from
the first value to the last. Values of ``None`` are gaps (a minute with no delivery
has no latency), not zeros.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

WIDTH, HEIGHT = 760, 190
LEFT, RIGHT, TOP, BOTTOM = 56, 8, 10, 22


@dataclass(frozen=True)
class Series:
    label: str
    color: str
    values: Sequence[float | None]


def _ceiling(value: float) -> float:
    """A round axis maximum at or above ``value`` (1, 2 or 5 times a power of ten)."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if value <= step * power:
            return float(step * power)
    return float(10 * power)  # pragma: no cover - the loop always returns


def _frame(
    top: float, x_labels: Sequence[str], fmt: Callable[[float], str], title: str
) -> list[SafeString]:
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    parts = [format_html("<title>{}</title>", title)]
    for fraction in (0.0, 0.5, 1.0):
        y = TOP + plot_h * (1 - fraction)
        parts.append(
            format_html(
                '<line x1="{}" y1="{}" x2="{}" y2="{}" class="grid"/>'
                '<text x="{}" y="{}" class="axis" text-anchor="end">{}</text>',
                LEFT,
                f"{y:.1f}",
                WIDTH - RIGHT,
                f"{y:.1f}",
                LEFT - 4,
                f"{y + 4:.1f}",
                fmt(top * fraction),
            )
        )
    last = len(x_labels) - 1
    for index, label in enumerate(x_labels):
        anchor = "start" if index == 0 else "end" if index == last else "middle"
        x = LEFT + plot_w * (index / last if last else 0)
        parts.append(
            format_html(
                '<text x="{}" y="{}" class="axis" text-anchor="{}">{}</text>',
                f"{x:.1f}",
                HEIGHT - 6,
                anchor,
                label,
            )
        )
    return parts


def _svg(parts: Sequence[SafeString], title: str, css_id: str) -> SafeString:
    return format_html(
        '<svg id="{}" class="pusher-chart" viewBox="0 0 {} {}" role="img" aria-label="{}" '
        'preserveAspectRatio="none">{}</svg>',
        css_id,
        WIDTH,
        HEIGHT,
        title,
        mark_safe("".join(parts)),  # noqa: S308 - every part is built by format_html
    )


def line_chart(
    series: Sequence[Series],
    x_labels: Sequence[str],
    *,
    title: str,
    css_id: str,
    fmt: Callable[[float], str] = str,
) -> SafeString:
    """One line per series; gaps where a value is ``None``, a dot for a lone value."""
    values = [v for s in series for v in s.values if v is not None]
    top = _ceiling(max(values, default=0.0))
    parts = _frame(top, x_labels, fmt, title)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    for one in series:
        count = len(one.values)
        path: list[str] = []
        dots: list[tuple[str, str, str]] = []
        for index, value in enumerate(one.values):
            if value is None:
                continue
            x = LEFT + plot_w * (index / (count - 1) if count > 1 else 0.5)
            y = TOP + plot_h * (1 - min(value, top) / top)
            joined = index > 0 and one.values[index - 1] is not None
            path.append(f"{'L' if joined else 'M'}{x:.1f},{y:.1f}")
            if not joined and (index + 1 >= count or one.values[index + 1] is None):
                dots.append((f"{x:.1f}", f"{y:.1f}", one.color))
        parts.append(
            format_html_join("", '<circle cx="{}" cy="{}" r="2.5" fill="{}"/>', iter(dots))
        )
        if path:
            parts.append(
                format_html(
                    '<path d="{}" fill="none" stroke="{}" stroke-width="1.5">'
                    "<title>{}</title></path>",
                    " ".join(path),
                    one.color,
                    one.label,
                )
            )
    return _svg(parts, title, css_id)


def bar_chart(
    series: Sequence[Series],
    x_labels: Sequence[str],
    *,
    title: str,
    css_id: str,
    fmt: Callable[[float], str] = str,
) -> SafeString:
    """Stacked bars, one column per value, the first series at the bottom."""
    count = max((len(s.values) for s in series), default=0)
    stacks = [sum(s.values[i] or 0 for s in series) for i in range(count)]
    top = _ceiling(max(stacks, default=0.0))
    parts = _frame(top, x_labels, fmt, title)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    width = plot_w / count if count else 0
    drawn = max(width * 0.85, 0.5)
    base = [0.0] * count
    for one in series:
        # One path per series (a rectangle per column): a day is 1,440 columns.
        path = []
        for index in range(count):
            value = one.values[index] or 0
            if value:
                y = TOP + plot_h * (1 - (base[index] + value) / top)
                height = plot_h * value / top
                path.append(
                    f"M{LEFT + index * width:.2f},{y:.2f}h{drawn:.2f}v{height:.2f}h-{drawn:.2f}z"
                )
                base[index] += value
        if path:
            parts.append(
                format_html(
                    '<path d="{}" fill="{}"><title>{}</title></path>',
                    "".join(path),
                    one.color,
                    one.label,
                )
            )
    return _svg(parts, title, css_id)
