"""Horizontal bar charts as inline SVG, rendered on the server: no script, no style
attribute (the page's CSP allows neither), readable on a 360 px wide phone.

Every piece of text — labels are community-editable category names — goes through
:func:`markupsafe.escape`; numbers are formatted here. Each row is a label with its value
on one line and the bar under it on the full width, so long labels never squeeze the bars;
a label too long for its line is shortened with "…" and given in full in the row's
``<title>`` tooltip. The SVG has a ``viewBox`` and ``width="100%"``: it scales to its box.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

from markupsafe import Markup, escape

#: the drawing's own coordinates; at a 300–330 px wide box one unit is about one pixel
WIDTH = 320
ROW = 42
LABEL_SIZE = 14
VALUE_SIZE = 13
BAR_Y = 21
BAR_HEIGHT = 12
PAD = 4
#: colours of civic.css (--fg, --muted, --accent, and the meter's track)
FG, MUTED, BAR, TRACK = "#1c2430", "#56606e", "#b3261e", "#e3e6ea"


@dataclass(frozen=True)
class Bar:
    label: str
    #: the length; negative values draw no bar
    value: int | float | Fraction
    #: shown at the end of the label line, e.g. "83.3%（5/6）" or "¥1,000.00"
    text: str
    #: the tooltip; "label：text" when empty
    tip: str = ""


def text_width(text: str, size: float) -> float:
    """A generous estimate of the drawn width: CJK and full-width characters are one em,
    everything else about 0.62 em."""
    return sum(size if ord(ch) >= 0x2E80 else size * 0.62 for ch in text)


def fit(text: str, size: float, room: float) -> str:
    """`text`, shortened with "…" to fit `room` units."""
    if text_width(text, size) <= room:
        return text
    out = ""
    for ch in text:
        if text_width(out + ch + "…", size) > room:
            break
        out += ch
    return out + "…"


def _num(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".")


def bar_chart(title: str, bars: Sequence[Bar], *, max_value: int | float | Fraction | None = None,
              css_class: str = "chart") -> Markup:
    """A horizontal bar chart: one row per bar, scaled to `max_value` (default: the largest
    value). Returns markup safe to put in a page as it is."""
    top = max([max_value or 0, *(b.value for b in bars)]) if bars else 0
    height = max(ROW, ROW * len(bars)) + PAD
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="{escape(css_class)}" '
           f'viewBox="0 0 {WIDTH} {height}" width="100%" preserveAspectRatio="xMinYMin meet" '
           f'role="img" aria-label="{escape(title)}">',
           f"<title>{escape(title)}</title>"]
    for i, b in enumerate(bars):
        y = i * ROW + PAD
        value_w = text_width(b.text, VALUE_SIZE)
        label = fit(b.label, LABEL_SIZE, WIDTH - value_w - 10)
        length = float(b.value) / float(top) * WIDTH if top and b.value > 0 else 0.0
        tip = b.tip or f"{b.label}：{b.text}"
        out.append(
            f'<g class="chart-row"><title>{escape(tip)}</title>'
            f'<text x="0" y="{y + LABEL_SIZE + 1}" font-size="{LABEL_SIZE}" fill="{FG}">'
            f"{escape(label)}</text>"
            f'<text x="{WIDTH}" y="{y + LABEL_SIZE + 1}" font-size="{VALUE_SIZE}" '
            f'fill="{MUTED}" text-anchor="end">{escape(b.text)}</text>'
            f'<rect x="0" y="{y + BAR_Y}" width="{WIDTH}" height="{BAR_HEIGHT}" rx="3" '
            f'fill="{TRACK}"/>'
            + (f'<rect class="chart-bar" x="0" y="{y + BAR_Y}" width="{_num(length)}" '
               f'height="{BAR_HEIGHT}" rx="3" fill="{BAR}"/>' if length > 0 else "")
            + "</g>")
    if not bars:
        out.append(f'<text x="0" y="{PAD + LABEL_SIZE + 1}" font-size="{LABEL_SIZE}" '
                   f'fill="{MUTED}">—</text>')
    out.append("</svg>")
    return Markup("".join(out))
