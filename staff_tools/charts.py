"""Charts drawn on the server as SVG markup, with a plain table saying the same.

    svg = bar_chart("Topics asked most", ["Cost", "Safety"], [12, 7])
    table = bars_table("Topics asked most", ["Cost", "Safety"], [("Questions", [12, 7])])

Each chart is one `<svg role="img">` with a `<title>` and a `<desc>` it is labelled by (the
desc summarises the data in words), its labels and values written as text, colours with at
least 4.5:1 contrast against the white background (so white text on them is readable too), no
script, no style attribute and no external resource: safe to put in a page as it is, under a
strict Content-Security-Policy. Every text is escaped. `DataTable` is the same data as a table
(`html()` with caption and header cells, or `text()`), for a "show as table" alternative.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from html import escape
from typing import List, Mapping, Optional, Sequence, Tuple, Union

# Text and lines: #1a1a1a is 17.4:1 on white, #4d4d4d 8.5:1. Grid lines are decoration.
TEXT, MUTED, GRID, BACKGROUND = "#1a1a1a", "#4d4d4d", "#d9d9d9", "#ffffff"
# Series colours, each at least 5:1 on white: blue, orange, purple, grey, red, green.
PALETTE = ("#1f5fa8", "#b34a00", "#6a3d9a", "#5f6368", "#a4262c", "#2e7d32")
# Line patterns, so that series differ by more than colour.
DASHES = ("", "7 4", "2 4", "10 3 2 3")
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif"
FONT_SIZE = 14
CHAR_WIDTH = 8.2  # a generous average character width at FONT_SIZE, for the layout
NO_DATA = "No data for this period."

Number = Union[int, float]
Series = Sequence[Tuple[str, Sequence[Number]]]


# ---- the text alternative ----------------------------------------------------------------

@dataclass(frozen=True)
class DataTable:
    """A chart's data as a table: the alternative to show beside or instead of the chart."""

    caption: str
    columns: Tuple[str, ...]
    rows: Tuple[Tuple[str, ...], ...]

    def html(self) -> str:
        """An HTML table, every text escaped; the first column's cells are row headers."""
        head = "".join(f'<th scope="col">{escape(column)}</th>' for column in self.columns)
        body = "".join(
            "<tr>" + "".join(
                f'<th scope="row">{escape(cell)}</th>' if index == 0 else f"<td>{escape(cell)}</td>"
                for index, cell in enumerate(row)
            ) + "</tr>"
            for row in self.rows
        )
        if not self.rows:
            body = f'<tr><td colspan="{len(self.columns)}">{escape(NO_DATA)}</td></tr>'
        return (f'<table class="chart-table"><caption>{escape(self.caption)}</caption>'
                f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")

    def text(self) -> str:
        """Plain text: the caption, then the table in aligned columns."""
        if not self.rows:
            return f"{self.caption}\n{NO_DATA}"
        widths = [max(len(str(cell)) for cell in column)
                  for column in zip(self.columns, *self.rows, strict=False)]
        lines = [self.caption]
        for row in (self.columns, *self.rows):
            cells = [cell.ljust(width) if index == 0 else cell.rjust(width)
                     for index, (cell, width) in enumerate(zip(row, widths, strict=True))]
            lines.append("  ".join(cells).rstrip())
        return "\n".join(lines)


@dataclass(frozen=True)
class Chart:
    """A chart for a page: its title, its SVG markup and the same data as a table."""

    key: str  # a name for the page (an anchor, a test)
    title: str
    svg: str
    table: DataTable


def format_number(value: Number, unit: str = "") -> str:
    """12 -> "12", 1234 -> "1,234", 2.5 -> "2.5"; `unit` appended ("%")."""
    if float(value).is_integer():
        text = f"{int(value):,}"
    else:
        text = f"{value:,.1f}"
    return text + unit


def percent(part: Number, total: Number) -> str:
    """The share as a whole percentage; "<1%" for a small share that is not zero."""
    if not total:
        return "0%"
    share = 100.0 * float(part) / float(total)
    if 0 < share < 0.5:
        return "<1%"
    return f"{round(share)}%"


def bars_table(title: str, labels: Sequence[str], series: Series, unit: str = "") -> DataTable:
    """The data of a bar chart: one row per label, one column per series."""
    rows = tuple(
        (label, *(format_number(values[index], unit) for _, values in series))
        for index, label in enumerate(labels)
    )
    return DataTable(title, ("", *(name for name, _ in series)), rows)


def line_table(title: str, labels: Sequence[str], series: Series, unit: str = "") -> DataTable:
    """The data of a line chart: one row per point (a day), one column per series."""
    return bars_table(title, labels, series, unit)


def share_table(title: str, parts: Sequence[Tuple[str, Number]]) -> DataTable:
    """The data of a share bar: each part, its count and its share of the whole."""
    total = sum(value for _, value in parts)
    rows = tuple((label, format_number(value), percent(value, total)) for label, value in parts)
    if rows:
        rows += (("Total", format_number(total), "100%" if total else "0%"),)
    return DataTable(title, ("", "Count", "Share"), rows)


# ---- SVG building blocks -----------------------------------------------------------------

def _chart_id(title: str, data: object) -> str:
    return "chart-" + hashlib.sha256(f"{title}\n{data!r}".encode()).hexdigest()[:10]


def _open(width: float, height: float, title: str, desc: str, chart_id: str) -> List[str]:
    chart_id = escape(chart_id)
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" '
        f'width="{width:.0f}" height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}" '
        f'font-family="{escape(FONT)}" font-size="{FONT_SIZE}" fill="{TEXT}">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(desc)}</desc>',
        f'<rect width="{width:.0f}" height="{height:.0f}" fill="{BACKGROUND}"/>',
    ]


def _text(x: float, y: float, text: str, anchor: str = "start", fill: str = TEXT,
          full: str = "", weight: str = "") -> str:
    """A text element; `full` is the untruncated text, as a tooltip."""
    tooltip = f"<title>{escape(full)}</title>" if full and full != text else ""
    bold = f' font-weight="{weight}"' if weight else ""
    return (f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" fill="{fill}"{bold}>'
            f"{tooltip}{escape(text)}</text>")


def _shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:max(1, limit - 1)].rstrip() + "…"


def _legend(names: Sequence[str], x: float, y: float, lines: bool = False) -> List[str]:
    """Colour keys in a row, each with its name."""
    parts = []
    for index, name in enumerate(names):
        colour = PALETTE[index % len(PALETTE)]
        if lines:
            dash = DASHES[index % len(DASHES)]
            dashes = f' stroke-dasharray="{dash}"' if dash else ""
            parts.append(f'<line x1="{x:.1f}" y1="{y - 5:.1f}" x2="{x + 22:.1f}" y2="{y - 5:.1f}" '
                         f'stroke="{colour}" stroke-width="3"{dashes}/>')
        else:
            parts.append(f'<rect x="{x:.1f}" y="{y - 12:.1f}" width="14" height="14" '
                         f'fill="{colour}"/>')
        parts.append(_text(x + 28 if lines else x + 20, y, name))
        x += (28 if lines else 20) + len(name) * CHAR_WIDTH + 20
    return parts


def _nice_step(value: float) -> float:
    """A round step at or above `value`: 1, 1.5, 2, 2.5, 3, 4, 5, 6 or 8 times a power of ten.

    At least 1, and whole numbers (no 1.5 or 2.5 under 10), so that counts step evenly.
    """
    if value <= 1:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    steps = (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10) if power >= 10 else (1, 2, 3, 4, 5, 6, 8, 10)
    for step in steps:
        if value <= step * power:
            return step * power
    return 10.0 * power


def _all_values(series: Series) -> List[float]:
    return [float(value) for _, values in series for value in values]


def _check(labels: Sequence[str], series: Series) -> None:
    for name, values in series:
        if len(values) != len(labels):
            raise ValueError(f"series {name!r} has {len(values)} values for {len(labels)} labels")


# ---- the charts --------------------------------------------------------------------------

def grouped_bar_chart(
    title: str,
    labels: Sequence[str],
    series: Series,
    *,
    desc: Optional[str] = None,
    unit: str = "",
    width: int = 680,
    chart_id: Optional[str] = None,
    max_label_chars: int = 34,
) -> str:
    """Horizontal bars, one row per label and one bar per series in it, values written."""
    _check(labels, series)
    chart_id = chart_id or _chart_id(title, (labels, series))
    many = len(series) > 1
    bar, gap = 20, 4
    row = len(series) * bar + (len(series) - 1) * gap + 14
    top = 36 if many else 10
    longest = max((len(_shorten(label, max_label_chars)) for label in labels), default=0)
    left = max(80.0, longest * CHAR_WIDTH + 24)
    plot = max(120.0, width - left - 70)
    height = top + max(1, len(labels)) * row + 8
    values = _all_values(series)
    if desc is None:
        desc = _bars_summary(labels, series, unit)
    out = _open(width, height, title, desc, chart_id)
    if many:
        out += _legend([name for name, _ in series], left, 22)
    if not labels:
        out.append(_text(left, top + 24, NO_DATA, fill=MUTED))
    highest = max(values, default=0.0) or 1.0
    for index, label in enumerate(labels):
        y = top + index * row
        middle = y + (row - 14) / 2
        out.append(_text(left - 8, middle + 5, _shorten(label, max_label_chars), "end",
                         full=label))
        for number, (name, series_values) in enumerate(series):
            value = float(series_values[index])
            length = 0.0 if value <= 0 else max(2.0, value / highest * plot)
            bar_y = y + number * (bar + gap)
            colour = PALETTE[number % len(PALETTE)]
            out.append(f'<rect x="{left:.1f}" y="{bar_y:.1f}" width="{length:.1f}" '
                       f'height="{bar}" fill="{colour}"><title>{escape(label)}, '
                       f"{escape(name)}: {escape(format_number(value, unit))}</title></rect>")
            out.append(_text(left + length + 6, bar_y + 15, format_number(value, unit)))
    out.append(f'<line x1="{left:.1f}" y1="{top - 4:.1f}" x2="{left:.1f}" '
               f'y2="{height - 6:.1f}" stroke="{MUTED}" stroke-width="1"/>')
    out.append("</svg>")
    return "".join(out)


def bar_chart(
    title: str,
    labels: Sequence[str],
    values: Sequence[Number],
    *,
    series_name: str = "Count",
    desc: Optional[str] = None,
    unit: str = "",
    width: int = 680,
    chart_id: Optional[str] = None,
    max_label_chars: int = 34,
) -> str:
    """Horizontal bars, one per label (long labels fit on the left), values written."""
    return grouped_bar_chart(title, labels, [(series_name, values)], desc=desc, unit=unit,
                             width=width, chart_id=chart_id, max_label_chars=max_label_chars)


def line_chart(
    title: str,
    labels: Sequence[str],
    series: Union[Series, Mapping[str, Sequence[Number]]],
    *,
    desc: Optional[str] = None,
    unit: str = "",
    width: int = 720,
    height: int = 300,
    chart_id: Optional[str] = None,
) -> str:
    """Lines over evenly spaced points (days), one per series, with a y axis from zero."""
    if isinstance(series, Mapping):
        series = list(series.items())
    _check(labels, series)
    chart_id = chart_id or _chart_id(title, (labels, series))
    many = len(series) > 1
    values = _all_values(series)
    ceiling = 4 * _nice_step(max(values, default=0.0) / 4)
    left, right, top, bottom = 56.0, 20.0, 40.0 if many else 16.0, 44.0
    plot_w, plot_h = width - left - right, height - top - bottom
    if desc is None:
        desc = _line_summary(labels, series, unit)
    out = _open(width, height, title, desc, chart_id)
    if many:
        out += _legend([name for name, _ in series], left, 24, lines=True)
    for step in range(5):  # the y axis: 0 and four steps up to the ceiling
        value = ceiling * step / 4
        y = top + plot_h - plot_h * step / 4
        out.append(f'<line x1="{left:.1f}" y1="{y:.1f}" x2="{left + plot_w:.1f}" y2="{y:.1f}" '
                   f'stroke="{GRID if step else MUTED}" stroke-width="1"/>')
        out.append(_text(left - 8, y + 5, format_number(value, unit), "end", MUTED))
    if not labels:
        out.append(_text(left + 12, top + plot_h / 2, NO_DATA, fill=MUTED))
    count = len(labels)

    def x_at(index: int) -> float:
        return left + plot_w / 2 if count == 1 else left + plot_w * index / (count - 1)

    longest = max((len(label) for label in labels), default=1)
    room = max(1, int(plot_w // (longest * CHAR_WIDTH + 14)))
    every = max(1, math.ceil(count / room))
    for index, label in enumerate(labels):
        if index % every == 0:
            anchor = "middle"
            if count > 1 and index == 0:
                anchor = "start"
            elif count > 1 and index == count - 1:
                anchor = "end"
            out.append(_text(x_at(index), top + plot_h + 22, label, anchor, MUTED))
    for number, (name, series_values) in enumerate(series):
        colour, dash = PALETTE[number % len(PALETTE)], DASHES[number % len(DASHES)]
        points = [(x_at(i), top + plot_h - plot_h * float(v) / ceiling)
                  for i, v in enumerate(series_values)]
        if len(points) > 1:
            dashes = f' stroke-dasharray="{dash}"' if dash else ""
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
            out.append(f'<polyline points="{path}" fill="none" stroke="{colour}" '
                       f'stroke-width="2.5" stroke-linejoin="round"{dashes}/>')
        if count <= 62:
            for (x, y), label, value in zip(points, labels, series_values, strict=True):
                out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{colour}">'
                           f"<title>{escape(label)}, {escape(name)}: "
                           f"{escape(format_number(value, unit))}</title></circle>")
    out.append("</svg>")
    return "".join(out)


def stacked_share_bar(
    title: str,
    parts: Sequence[Tuple[str, Number]],
    *,
    desc: Optional[str] = None,
    width: int = 680,
    chart_id: Optional[str] = None,
) -> str:
    """One bar split into the parts' shares of their total.

    The legend gives each part's count and percentage, so that a thin part is still read.
    """
    chart_id = chart_id or _chart_id(title, parts)
    total = float(sum(value for _, value in parts))
    bar_top, bar_height, x0, bar_w = 10.0, 40.0, 10.0, width - 20.0
    legend_top = bar_top + bar_height + 28
    height = legend_top + max(1, len(parts)) * 24 + 4
    if desc is None:
        desc = _share_summary(parts)
    out = _open(width, height, title, desc, chart_id)
    if total <= 0:
        out.append(f'<rect x="{x0:.1f}" y="{bar_top:.1f}" width="{bar_w:.1f}" '
                   f'height="{bar_height:.1f}" fill="none" stroke="{MUTED}"/>')
        out.append(_text(x0 + 12, bar_top + 26, NO_DATA, fill=MUTED))
    x = x0
    for index, (label, value) in enumerate(parts):
        if total <= 0 or value <= 0:
            continue
        length = bar_w * float(value) / total
        colour = PALETTE[index % len(PALETTE)]
        share = percent(value, total)
        out.append(f'<rect x="{x:.1f}" y="{bar_top:.1f}" width="{length:.1f}" '
                   f'height="{bar_height:.1f}" fill="{colour}" stroke="{BACKGROUND}" '
                   f'stroke-width="2"><title>{escape(label)}: {escape(format_number(value))} '
                   f"({escape(share)})</title></rect>")
        if length >= len(share) * CHAR_WIDTH + 12:
            out.append(_text(x + length / 2, bar_top + 26, share, "middle", BACKGROUND,
                             weight="bold"))
        x += length
    for index, (label, value) in enumerate(parts):
        y = legend_top + index * 24
        out.append(f'<rect x="{x0:.1f}" y="{y - 12:.1f}" width="14" height="14" '
                   f'fill="{PALETTE[index % len(PALETTE)]}"/>')
        out.append(_text(x0 + 22, y, f"{label}: {format_number(value)} "
                                     f"({percent(value, total)})"))
    out.append("</svg>")
    return "".join(out)


# ---- what the desc says ------------------------------------------------------------------

def _bars_summary(labels: Sequence[str], series: Series, unit: str) -> str:
    return _series_summary(labels, series, unit, "Bar chart of {count} items.",
                           "{name}: highest {label} ({highest}), total {total}.")


def _line_summary(labels: Sequence[str], series: Series, unit: str) -> str:
    return _series_summary(labels, series, unit, "Line chart from {first} to {last}.",
                           "{name}: total {total}, highest {highest} on {label}.")


def _series_summary(
    labels: Sequence[str], series: Series, unit: str, heading: str, each: str
) -> str:
    """The `heading`, then a sentence per series: `each`, formatted with its values.

    `heading` may name {count} (how many labels), {first} and {last} (label); `each` the
    series' {name}, {total}, {highest} value and the {label} of that value.
    """
    if not labels:
        return NO_DATA
    parts = []
    for name, values in series:
        best = max(range(len(labels)), key=lambda index: float(values[index]))
        parts.append(each.format(name=name, label=labels[best],
                                 highest=format_number(values[best], unit),
                                 total=format_number(sum(values), unit)))
    opening = heading.format(count=len(labels), first=labels[0], last=labels[-1])
    return f"{opening} " + " ".join(parts)


def _share_summary(parts: Sequence[Tuple[str, Number]]) -> str:
    total = sum(value for _, value in parts)
    if not total:
        return NO_DATA
    shares = "; ".join(f"{label} {percent(value, total)} ({format_number(value)})"
                       for label, value in parts)
    return f"Shares of {format_number(total)}: {shares}."
