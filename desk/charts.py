"""Server-rendered SVG charts for the dashboard: no JavaScript, no CDN, escaped text only."""

from dataclasses import dataclass

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

FAILURE_RED = "#c0392b"
PALETTE = [FAILURE_RED, "#2471a3", "#d68910", "#7d3c98", "#138d75", "#5d6d7e", "#a04000", "#1e8449", "#b03a2e"]


@dataclass(frozen=True)
class Series:
    label: str
    values: list[int]


def stacked_bars(*, labels: list[str], series: list[Series], title: str, width: int = 720, height: int = 220,
                 chart_id: str = "") -> SafeString:
    """Return a stacked bar chart (one bar per label, one colour per series) with a legend."""
    left, bottom, top = 40, 30, 10
    plot_w, plot_h = width - left - 10, height - bottom - top
    totals = [sum(s.values[i] for s in series) for i in range(len(labels))]
    peak = max(totals, default=0) or 1
    slot = plot_w / max(len(labels), 1)
    bar_w = max(slot * 0.7, 1)
    rects = []
    for i, _label in enumerate(labels):
        y = top + plot_h
        for n, s in enumerate(series):
            value = s.values[i]
            if not value:
                continue
            h = plot_h * value / peak
            y -= h
            rects.append((f"{left + i * slot + (slot - bar_w) / 2:.1f}", f"{y:.1f}", f"{bar_w:.1f}", f"{h:.1f}",
                          PALETTE[n % len(PALETTE)], f"{s.label}: {value} ({labels[i]})"))
    step = max(1, len(labels) // 8)  # At most ~8 axis labels, whatever the bucket count.
    ticks = [(f"{left + i * slot + slot / 2:.1f}", height - 10, label)
             for i, label in enumerate(labels) if i % step == 0]
    legend = format_html_join(
        "", '<span class="legend-item"><svg width="10" height="10"><rect width="10" height="10" fill="{}"></rect>'
        "</svg> {}</span> ", [(PALETTE[n % len(PALETTE)], s.label) for n, s in enumerate(series)]
    )
    return format_html(
        '<figure class="chart"{}><svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {} {}" width="100%" '
        'role="img" aria-label="{}"><title>{}</title>'
        '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#999"></line>'
        '<text x="2" y="{}" font-size="10">{}</text><text x="2" y="{}" font-size="10">0</text>{}{}</svg>'
        "<figcaption>{}</figcaption></figure>",
        format_html(' id="{}"', chart_id) if chart_id else "", width, height, title, title,
        left, top + plot_h, width - 10, top + plot_h, top + 10, peak, top + plot_h,
        format_html_join("", '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"><title>{}</title></rect>', rects),
        format_html_join("", '<text x="{}" y="{}" font-size="10" text-anchor="middle">{}</text>', ticks),
        legend or mark_safe("No data in this period."),
    )


def horizontal_bars(*, rows: list[tuple[str, int]], title: str, width: int = 420, chart_id: str = "",
                    colours: list[str] | None = None) -> SafeString:
    """Return one labelled horizontal bar per row, scaled to the largest value; row i drawn in `colours[i]` when
    given (so a colour can mean something, as red for failure), else in the palette's order."""
    colours = colours or PALETTE
    row_h, label_w = 22, 110
    height = row_h * len(rows) + 6
    peak = max((value for _label, value in rows), default=0) or 1
    scale = (width - label_w - 60) / peak
    bars = []
    for i, (label, value) in enumerate(rows):
        y = 4 + i * row_h
        bars.append((label, value, y + 13, label_w, y, f"{scale * value:.1f}", colours[i % len(colours)],
                     f"{label_w + 4 + scale * value:.1f}", y + 13, value))
    body = format_html_join(
        "", '<g><title>{}: {}</title><text x="0" y="{}" font-size="12">{}</text>'
        '<rect x="{}" y="{}" width="{}" height="16" fill="{}"></rect>'
        '<text x="{}" y="{}" font-size="12">{}</text></g>',
        [(b[0], b[1], b[2], b[0], b[3], b[4], b[5], b[6], b[7], b[8], b[9]) for b in bars],
    )
    return format_html(
        '<figure class="chart"{}><svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {} {}" width="100%" '
        'role="img" aria-label="{}"><title>{}</title>{}</svg></figure>',
        format_html(' id="{}"', chart_id) if chart_id else "", width, height, title, title, body,
    )
