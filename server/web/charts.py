"""Inline SVG bar charts drawn on the server: no script, no CDN, readable without JavaScript."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from markupsafe import Markup

WIDTH, HEIGHT = 720, 260
MARGIN_LEFT, MARGIN_BOTTOM, MARGIN_TOP = 48, 56, 16
PALETTE = ("#2e7d32", "#66bb6a", "#c0ca33", "#fb8c00", "#c62828", "#9e9e9e")


@dataclass(frozen=True)
class Series:
    """One stacked part of every bar: its name, colour and a value per bar."""

    name: str
    colour: str
    values: list[float]


def _nice_max(value: float) -> float:
    """The axis top: four equal whole-number steps of 1, 2, 2.5 or 5 times a power of ten."""
    if value <= 0:
        return 4.0
    magnitude = 1
    while True:
        for factor in (1, 2, 2.5, 5) if magnitude >= 10 else (1, 2, 5):
            step = factor * magnitude
            if 4 * step >= value:
                return float(4 * step)
        magnitude *= 10


def bar_chart(labels: list[str], series: list[Series], title: str) -> Markup:
    """Stacked vertical bars, one per label, with a legend and a labelled value axis."""
    totals = [sum(s.values[i] for s in series) for i in range(len(labels))]
    top = _nice_max(max(totals, default=0))
    plot_w, plot_h = WIDTH - MARGIN_LEFT - 8, HEIGHT - MARGIN_BOTTOM - MARGIN_TOP
    slot = plot_w / max(len(labels), 1)
    bar_w = max(min(slot * 0.7, 60), 2)
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {WIDTH} {HEIGHT + 24}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
    ]
    for tick in range(5):
        value = top * tick / 4
        y = MARGIN_TOP + plot_h - plot_h * tick / 4
        parts.append(
            f'<line x1="{MARGIN_LEFT}" x2="{WIDTH - 8}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
            f'<text x="{MARGIN_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{value:g}</text>'
        )
    every = max(1, len(labels) // 15)  # keep axis labels from overlapping on long ranges
    for i, label in enumerate(labels):
        x = MARGIN_LEFT + slot * i + (slot - bar_w) / 2
        base = float(MARGIN_TOP + plot_h)
        for s in series:
            h = plot_h * s.values[i] / top
            if h > 0:
                parts.append(
                    f'<rect x="{x:.1f}" y="{base - h:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
                    f'fill="{s.colour}"><title>{escape(label)} {escape(s.name)}：{s.values[i]:g}</title>'
                    "</rect>"
                )
            base -= h
        if totals[i]:
            parts.append(
                f'<text x="{x + bar_w / 2:.1f}" y="{base - 4:.1f}" text-anchor="middle">{totals[i]:g}</text>'
            )
        if i % every == 0:
            parts.append(
                f'<text x="{x + bar_w / 2:.1f}" y="{MARGIN_TOP + plot_h + 16}" '
                f'text-anchor="middle">{escape(label)}</text>'
            )
    x = MARGIN_LEFT
    for s in series:
        parts.append(
            f'<rect x="{x}" y="{HEIGHT + 4}" width="12" height="12" fill="{s.colour}"/>'
            f'<text x="{x + 16}" y="{HEIGHT + 15}">{escape(s.name)}</text>'
        )
        x += 24 + 14 * len(s.name)
    parts.append("</svg>")
    return Markup("".join(parts))  # every text part above is escaped
