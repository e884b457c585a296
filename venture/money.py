"""Money as people read it: the one formatter that pages (the ``money`` template filter), PDFs, charts, messages and
spreadsheets use. Amounts are Decimal; a float is read through its shortest repr, never its binary expansion."""

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
CURRENCY = "¥"


def to_cents(value):
    """``value`` as a Decimal rounded half up to the cent."""
    amount = value if isinstance(value, Decimal) else Decimal(str(value) if isinstance(value, float) else value)
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def format_money(value, *, symbol=True):
    """``¥1,234,567.80``; a negative amount reads ``-¥100,000.00`` (the minus before the currency sign); blank for
    None or "". ``symbol=False`` leaves out the currency sign (``-100,000.00``), for cells and columns whose heading
    already says yuan. Raises decimal.InvalidOperation (or TypeError) for what is not a number."""
    if value is None or value == "":
        return ""
    amount = to_cents(value)
    sign = "-" if amount < 0 else ""  # -0.001 rounds to -0.00, which is not below zero: no sign
    return f"{sign}{CURRENCY if symbol else ''}{abs(amount):,.2f}"
