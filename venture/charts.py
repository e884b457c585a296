"""Charts as server-side SVG: the same markup goes into a page (``{{ chart }}``) and into a PDF (WeasyPrint draws
inline SVG). No JavaScript, no chart library.

    strip_plot({"项目A": [82, 85, 90], "项目B": [70, 75]}, marks={"项目A": 85.0}, highlight="项目A", title=_("Scores"))
    bar_chart([("权益保障", 4), ("技能培训", 3)], title=_("Finalists by category"))
    grouped_bars(["人员费", "活动费"], {_("Budget"): [Decimal("5000"), 8000], _("Spent"): [4200, 8600]})
    line_chart({_("Spent"): [(date(2025, 3, 1), 0), (date(2025, 4, 1), 12000)]})

Every function returns a ``SafeString`` holding one ``<svg role="img" aria-label="…">`` with a ``<title>``; all text
is XML-escaped, so labels and names from users are shown as text. Geometry uses floats, values are shown through
``value_format`` (``str`` of the original value by default, so Decimals print exactly). The output depends on the
input only (no ids, no randomness, fixed rounding): same input, same bytes.
"""

import datetime as dt
import math
import unicodedata
from xml.sax.saxutils import escape, quoteattr

from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _

PALETTE = ("#b3261e", "#1f5fa8", "#2e7d32", "#ef6c00", "#6a1b9a", "#00838f", "#5d4037", "#455a64")
INK, MUTED, GRID, HIGHLIGHT_BAND = "#212529", "#6c757d", "#dee2e6", "#fdecea"
FONT_FAMILY = "'Noto Sans CJK SC', 'Noto Sans SC', 'Microsoft YaHei', sans-serif"
FONT_SIZE = 12


# --- Helpers -----------------------------------------------------------------------------------------------------


def colon():
    """The colon between a tooltip's label and its value: full-width "：" in Chinese, ": " in English (as the
    ``{% colon %}`` template tag)."""
    return "：" if (get_language() or "").startswith("zh") else ": "


def _n(x):
    """A coordinate: at most 2 decimals, no trailing zeros, never "-0"."""
    text = f"{x:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _fmt(value):
    """Default value format: Decimals and ints as they are, floats with at most 2 decimals."""
    if isinstance(value, float):
        return _n(value)
    return str(value)


def _finite(value):
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _text_width(text, size=FONT_SIZE):
    """Approximate rendered width: CJK (wide) characters are one em, others about 0.6 em."""
    return sum(size if unicodedata.east_asian_width(ch) in "WF" else size * 0.6 for ch in text)


def _truncate(text, width, size=FONT_SIZE):
    if _text_width(text, size) <= width:
        return text
    while text and _text_width(text + "…", size) > width:
        text = text[:-1]
    return text + "…"


def _attr(value):
    return quoteattr(str(value))


def _text(x, y, content, *, anchor="start", size=FONT_SIZE, fill=INK, weight=None, baseline="middle"):
    weight_attr = f' font-weight="{weight}"' if weight else ""
    return (
        f'<text x="{_n(x)}" y="{_n(y)}" text-anchor="{anchor}" dominant-baseline="{baseline}" font-size="{size}" '
        f'fill="{fill}"{weight_attr}>{escape(str(content))}</text>'
    )


def _line(x1, y1, x2, y2, *, stroke=GRID, width=1, extra=""):
    return (
        f'<line x1="{_n(x1)}" y1="{_n(y1)}" x2="{_n(x2)}" y2="{_n(y2)}" stroke="{stroke}" '
        f'stroke-width="{_n(width)}"{extra}/>'
    )


def _nice_step(span, target_ticks=5):
    if span <= 0:
        return 1.0
    raw = span / target_ticks
    magnitude = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * magnitude:
            return factor * magnitude
    return 10 * magnitude


def _ticks(low, high, target_ticks=5):
    """Round tick values covering [low, high]; returns (ticks, new_low, new_high)."""
    if high <= low:
        high = low + 1
    step = _nice_step(high - low, target_ticks)
    start, end = math.floor(low / step) * step, math.ceil(high / step) * step
    count = round((end - start) / step)
    return [start + i * step for i in range(count + 1)], start, end


def _svg(width, height, title, body):
    label = title or _("Chart")
    # Safe: every piece of text in body and label went through escape()/quoteattr().
    return mark_safe(
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{_n(width)}" height="{_n(height)}" '
        f'viewBox="0 0 {_n(width)} {_n(height)}" role="img" aria-label={_attr(label)} '
        f'font-family="{FONT_FAMILY}" font-size="{FONT_SIZE}">'
        f"<title>{escape(label)}</title>{''.join(body)}</svg>"
    )


def _empty(width, height, title):
    body = []
    if title:
        body.append(_text(width / 2, 16, title, anchor="middle", weight="bold"))
    body.append(_text(width / 2, height / 2, _("No data"), anchor="middle", fill=MUTED))
    return _svg(width, height, title, body)


def _title(body, title, width):
    if title:
        body.append(_text(width / 2, 14, title, anchor="middle", weight="bold"))
        return 28
    return 8


def _legend(names, x, y, width):
    """One row of colour keys; returns the SVG pieces."""
    parts, cursor = [], x
    for i, name in enumerate(names):
        label = _truncate(str(name), max(width / max(len(names), 1) - 24, 30))
        colour = PALETTE[i % len(PALETTE)]
        parts.append(f'<rect x="{_n(cursor)}" y="{_n(y - 5)}" width="10" height="10" fill="{colour}"/>')
        parts.append(_text(cursor + 14, y, label))
        cursor += 14 + _text_width(label) + 16
    return parts


# --- Charts ------------------------------------------------------------------------------------------------------


def strip_plot(
    series,
    *,
    width=640,
    height=None,
    x_min=0,
    x_max=100,
    highlight=None,
    title=None,
    marks=None,
    value_format=_fmt,
):
    """One row per label with a dot for each value (e.g. each judge's score of a project) on a 0-``x_max`` axis.

    ``marks``: {label: value} drawn as a vertical bar on the row (e.g. the trimmed mean); ``highlight``: a label whose
    row is shaded. Values outside the axis are drawn at its edge (their tooltip shows the real value); missing or
    non-numeric values are left out. Exactly one ``<circle>`` per drawn value.
    """
    marks = {str(label): value for label, value in (marks or {}).items()}
    rows = [(str(label), values) for label, values in series.items()]
    row_height = 28
    if height is None:
        height = (28 if title else 8) + row_height * max(len(rows), 1) + 28
    if not rows:
        return _empty(width, height, title)
    body: list[str] = []
    top = _title(body, title, width)
    label_width = min(max(_text_width(label) for label, _values in rows) + 12, width * 0.35)
    shown_marks = {label: value_format(value) for label, value in marks.items() if _finite(value) is not None}
    mark_room = max([_text_width(text, 11) for text in shown_marks.values()] + [0])
    left, right = label_width, width - 16 - (mark_room + 8 if mark_room else 0)
    bottom = height - 28
    row_height = (bottom - top) / len(rows)
    span = (x_max - x_min) or 1

    def x_of(value):
        return left + (min(max(value, x_min), x_max) - x_min) / span * (right - left)

    ticks, _low, _high = _ticks(x_min, x_max)
    for tick in ticks:
        if x_min <= tick <= x_max:
            body.append(_line(x_of(tick), top, x_of(tick), bottom))
            body.append(_text(x_of(tick), bottom + 14, _n(tick), anchor="middle", size=10, fill=MUTED))
    for index, (label, values) in enumerate(rows):
        y_top = top + index * row_height
        y = y_top + row_height / 2
        is_highlight = highlight is not None and label == str(highlight)
        if is_highlight:
            body.append(
                f'<rect x="0" y="{_n(y_top)}" width="{_n(width)}" height="{_n(row_height)}" fill="{HIGHLIGHT_BAND}"/>'
            )
        weight = "bold" if is_highlight else None
        body.append(_text(label_width - 8, y, _truncate(label, label_width - 12), anchor="end", weight=weight))
        body.append(_line(left, y, right, y, stroke=GRID))
        colour = PALETTE[0] if is_highlight else PALETTE[1]
        for value in values:
            number = _finite(value)
            if number is None:
                continue
            body.append(
                f'<circle cx="{_n(x_of(number))}" cy="{_n(y)}" r="5" fill="{colour}" fill-opacity="0.6" '
                f'stroke="{colour}"><title>{escape(f"{label}{colon()}{value_format(value)}")}</title></circle>'
            )
        if label in shown_marks:
            x, shown = x_of(_finite(marks[label])), shown_marks[label]
            body.append(
                f'<path d="M{_n(x)} {_n(y - row_height * 0.4)}V{_n(y + row_height * 0.4)}" stroke="{INK}" '
                f'stroke-width="2.5"><title>{escape(f"{label}{colon()}{shown}")}</title></path>'
            )
            body.append(_text(width - 8, y, shown, anchor="end", size=11, weight="bold"))
    return _svg(width, height, title, body)


def bar_chart(items, *, width=640, height=None, title=None, value_format=_fmt, highlight=None, x_max=None):
    """Horizontal bars, one per ``(label, value)``, the value written at the end of the bar.

    Negative values go left of a zero line. ``highlight``: a label drawn in the accent colour.
    """
    rows = [(str(label), value, _finite(value)) for label, value in items]
    bar_height, gap = 20, 8
    if height is None:
        height = (28 if title else 8) + (bar_height + gap) * max(len(rows), 1) + 8
    if not rows:
        return _empty(width, height, title)
    body: list[str] = []
    top = _title(body, title, width)
    label_width = min(max(_text_width(label) for label, _v, _f in rows) + 12, width * 0.35)
    numbers = [number for _l, _v, number in rows if number is not None]
    value_room = max([_text_width(value_format(v), 11) for _l, v, f in rows if f is not None] + [0]) + 8
    low = min([0, *numbers])
    high = max([0, *numbers]) if x_max is None else float(x_max)
    span = (high - low) or 1
    left = label_width + (value_room if low < 0 else 0)
    right = width - value_room - 4

    def x_of(value):
        return left + (value - low) / span * (right - left)

    step = (height - top - 8) / len(rows)
    zero = x_of(0)
    body.append(_line(zero, top, zero, height - 8, stroke=MUTED))
    for index, (label, value, number) in enumerate(rows):
        y = top + index * step + (step - min(bar_height, step - 2)) / 2
        h = min(bar_height, step - 2)
        body.append(_text(label_width - 8, y + h / 2, _truncate(label, label_width - 12), anchor="end"))
        if number is None:
            continue
        colour = PALETTE[0] if highlight is not None and label == str(highlight) else PALETTE[1]
        x0, x1 = sorted((zero, x_of(number)))
        body.append(
            f'<rect x="{_n(x0)}" y="{_n(y)}" width="{_n(max(x1 - x0, 0.5))}" height="{_n(h)}" fill="{colour}">'
            f"<title>{escape(f'{label}{colon()}{value_format(value)}')}</title></rect>"
        )
        if number >= 0:
            body.append(_text(x1 + 4, y + h / 2, value_format(value), size=11))
        else:
            body.append(_text(x0 - 4, y + h / 2, value_format(value), anchor="end", size=11))
    return _svg(width, height, title, body)


def grouped_bars(categories, series, *, width=640, height=320, title=None, value_format=_fmt):
    """Vertical bars grouped by category, one colour per series (e.g. budget vs spent by budget category)."""
    categories = [str(category) for category in categories]
    names = list(series)
    if not categories or not names:
        return _empty(width, height, title)
    body: list[str] = []
    top = _title(body, title, width)
    legend_y = top + 6
    body.extend(_legend(names, 56, legend_y, width - 56))
    top = legend_y + 16
    numbers = [_finite(v) for values in series.values() for v in values]
    numbers = [n for n in numbers if n is not None]
    ticks, low, high = _ticks(min([0, *numbers]), max([0, *numbers]) or 1)
    left, right, bottom = 56, width - 8, height - 28
    span = (high - low) or 1

    def y_of(value):
        return bottom - (value - low) / span * (bottom - top)

    for tick in ticks:
        body.append(_line(left, y_of(tick), right, y_of(tick)))
        body.append(_text(left - 6, y_of(tick), _n(tick), anchor="end", size=10, fill=MUTED))
    band = (right - left) / len(categories)
    bar = band * 0.8 / len(names)
    zero = y_of(0)
    for c, category in enumerate(categories):
        x_band = left + c * band
        body.append(_text(x_band + band / 2, bottom + 14, _truncate(category, band - 4, 11), anchor="middle", size=11))
        for s, name in enumerate(names):
            values = series[name]
            value = values[c] if c < len(values) else None
            number = _finite(value)
            if number is None:
                continue
            y0, y1 = sorted((zero, y_of(number)))
            body.append(
                f'<rect x="{_n(x_band + band * 0.1 + s * bar)}" y="{_n(y0)}" width="{_n(bar)}" '
                f'height="{_n(max(y1 - y0, 0.5))}" fill="{PALETTE[s % len(PALETTE)]}">'
                f"<title>{escape(f'{category} · {name}{colon()}{value_format(value)}')}</title></rect>"
            )
    body.append(_line(left, zero, right, zero, stroke=MUTED))
    return _svg(width, height, title, body)


def _x_number(x):
    if isinstance(x, dt.datetime):
        return x.timestamp() / 86400
    if isinstance(x, dt.date):
        return float(x.toordinal())
    return _finite(x)


def _x_label(x):
    if isinstance(x, dt.datetime):
        return x.strftime("%Y-%m-%d %H:%M")
    if isinstance(x, dt.date):
        return x.isoformat()
    return _fmt(x)


def line_chart(points_by_series, *, width=640, height=320, title=None, value_format=_fmt, x_format=_x_label):
    """One line per series through its ``(x, y)`` points (x: numbers, dates or datetimes; sorted by x).

    A dot on every point (tooltip: x and value); x axis labelled at the first, middle and last x.
    """
    series = {}
    for name, points in points_by_series.items():
        clean = [(_x_number(x), _finite(y), x, y) for x, y in points]
        series[name] = sorted((p for p in clean if p[0] is not None and p[1] is not None), key=lambda p: p[0])
    points = [p for values in series.values() for p in values]
    if not points:
        return _empty(width, height, title)
    body: list[str] = []
    top = _title(body, title, width)
    legend_y = top + 6
    body.extend(_legend(list(series), 56, legend_y, width - 56))
    top = legend_y + 16
    ticks, low, high = _ticks(min(0, *(p[1] for p in points)), max(p[1] for p in points) or 1)
    x_low, x_high = min(p[0] for p in points), max(p[0] for p in points)
    left, right, bottom = 56, width - 24, height - 28
    y_span, x_span = (high - low) or 1, (x_high - x_low) or 1

    def x_of(x):
        return left + (x - x_low) / x_span * (right - left) if x_high > x_low else (left + right) / 2

    def y_of(y):
        return bottom - (y - low) / y_span * (bottom - top)

    for tick in ticks:
        body.append(_line(left, y_of(tick), right, y_of(tick)))
        body.append(_text(left - 6, y_of(tick), _n(tick), anchor="end", size=10, fill=MUTED))
    distinct_x = sorted({p[0]: p[2] for p in points}.items())  # (position, original x), one per x
    last = len(distinct_x) - 1
    for i in sorted({0, last // 2, last}):
        x, original = distinct_x[i]
        anchor = "middle" if last == 0 or 0 < i < last else "start" if i == 0 else "end"
        body.append(_text(x_of(x), bottom + 14, x_format(original), anchor=anchor, size=10, fill=MUTED))
    body.append(_line(left, bottom, right, bottom, stroke=MUTED))
    for s, (name, values) in enumerate(series.items()):
        colour = PALETTE[s % len(PALETTE)]
        path = " ".join(f"{'M' if i == 0 else 'L'}{_n(x_of(p[0]))} {_n(y_of(p[1]))}" for i, p in enumerate(values))
        if path:
            body.append(f'<path d="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for x, y, original_x, original_y in values:
            body.append(
                f'<circle cx="{_n(x_of(x))}" cy="{_n(y_of(y))}" r="3" fill="{colour}">'
                f"<title>{escape(f'{name} · {x_format(original_x)}{colon()}{value_format(original_y)}')}</title></circle>"
            )
    return _svg(width, height, title, body)
