"""Charts as inline SVG, drawn on the server (no chart library, no CDN): bar charts of one or two series."""

from __future__ import annotations

import math
from dataclasses import dataclass

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

WIDTH, HEIGHT = 720, 220
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 72, 12, 12, 36
# At most this many category labels are written under the bars (every n-th one on long series).
MAX_LABELS = 12


@dataclass(frozen=True)
class Series:
    name: str
    values: list[float]
    color: str


def nice_ceiling(value: float) -> float:
    """The smallest 1, 2 or 5 times a power of ten that is at least ``value`` (axis maximum)."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for factor in (1, 2, 5, 10):
        if value <= factor * power:
            return float(factor * power)
    return float(10 * power)


def _number(value: float) -> str:
    return f"{value:.0f}" if value >= 10 or value == int(value) else f"{value:.1f}"


def _f(value: float) -> str:
    """A coordinate (format_html escapes its arguments into strings, so numbers are formatted first)."""
    return f"{value:.1f}"


def bar_chart(labels: list[str], series: list[Series], *, title: str, unit: str = "") -> SafeString:
    """Bars of each label, the series side by side (the first one wide, the others drawn over it narrower),
    a y axis with 0, half and the maximum, and a legend."""
    plot_w = WIDTH - MARGIN_LEFT - MARGIN_RIGHT
    plot_h = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
    top = nice_ceiling(max((v for s in series for v in s.values), default=0))
    n = max(1, len(labels))
    slot = plot_w / n
    parts = []
    for fraction in (0, 0.5, 1):
        y = MARGIN_TOP + plot_h * (1 - fraction)
        parts.append(format_html(
            '<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="#d0d7de" stroke-width="1"/>'
            '<text x="{}" y="{}" text-anchor="end" font-size="11" fill="#57606a">{}{}</text>',
            MARGIN_LEFT, WIDTH - MARGIN_RIGHT, _f(y), _f(y), MARGIN_LEFT - 6, _f(y + 4), _number(top * fraction), unit,
        ))  # fmt: skip
    for index, label in enumerate(labels):
        x0 = MARGIN_LEFT + index * slot
        for depth, one in enumerate(series):
            value = one.values[index] if index < len(one.values) else 0
            height = plot_h * value / top
            inset = slot * (0.1 + 0.15 * depth)
            parts.append(format_html(
                '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"><title>{}: {} {}</title></rect>',
                _f(x0 + inset), _f(MARGIN_TOP + plot_h - height), _f(max(1.0, slot - 2 * inset)), _f(height),
                one.color, label, _number(value), one.name,
            ))  # fmt: skip
        every = max(1, math.ceil(n / MAX_LABELS))
        if index % every == 0:
            parts.append(format_html(
                '<text x="{}" y="{}" text-anchor="middle" font-size="11" fill="#57606a">{}</text>',
                _f(x0 + slot / 2), HEIGHT - MARGIN_BOTTOM + 16, label,
            ))  # fmt: skip
    legend = format_html_join(
        "",
        '<rect x="{}" y="{}" width="10" height="10" fill="{}"/><text x="{}" y="{}" font-size="11">{}</text>',
        (
            (MARGIN_LEFT + 140 * i, HEIGHT - 12, s.color, MARGIN_LEFT + 140 * i + 14, HEIGHT - 3, s.name)
            for i, s in enumerate(series)
        ),
    )
    body = mark_safe("".join(parts))  # every part was escaped by format_html
    return format_html(
        '<svg class="chart" role="img" aria-label="{}" viewBox="0 0 {} {}" width="100%" '
        'xmlns="http://www.w3.org/2000/svg"><title>{}</title>{}{}</svg>',
        title, WIDTH, HEIGHT, title, body, legend,
    )  # fmt: skip
