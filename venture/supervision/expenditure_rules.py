"""The one rule for an expenditure (支出) entering the ledger, whatever brings it: the entry form, the spreadsheet
import, or any later API. ``validate_expenditure`` answers {field: [messages]} (empty: it may be recorded);
``parse_amount`` and ``parse_date`` read what people type or what a spreadsheet cell holds.

What it checks: the amount (more than zero, at most two decimals, at most ``settings.EXPENDITURE_MAX_AMOUNT``, no
exponent notation), the date (inside the project period, not in the future), the project's state (closed: refused;
suspended: refused with the reason, unless staff record it with a reason), the category and approved line (a line
named but not approved is refused naming it), the receipt above the round's threshold (or the entry is "receipt
pending"), the invoice (数电票: 20 digits; the older VAT invoice: a 10- or 12-digit code and an 8-digit number), the
payee's unified social credit code when given, the same invoice claimed anywhere on the platform, the same voucher
number twice in the project, and the project's running totals still fitting their fields. An entry that has been
reversed (红冲), and its reversal, no longer hold their voucher or invoice: the corrected entry may use them again.

A reversal is negative by nature, so it passes the same function in its own mode (``reverses=`` the original): it
must mirror the original exactly (the negative of its amount, its date, line, category, voucher and invoice), the
original must be an ordinary entry of the project not reversed before (no second or partial reversal), and the
project's state is checked as for any entry.

Services call it inside their transaction after locking the project (``ledger.lock_projects``), so two writers
cannot both pass the duplicate checks of one project. ``Known`` holds what the checks compare with, loaded once for
a whole file."""

import datetime
import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _

from venture import permissions
from venture.money import format_money
from venture.validators import MAX_MONEY, validate_uscc

from .models import Expenditure, InvoiceKind, ProjectStatus

CENT = Decimal("0.01")
DUPLICATE_INVOICE_ACTION = "ledger.duplicate_invoice"  # audit action written when a claimed invoice is refused
EXCEL_EPOCH = datetime.date(1899, 12, 30)  # serial 1 is 1900-01-01 (with Excel's 1900 leap-year bug folded in)
_AMOUNT_RE = re.compile(r"^(\d{1,3}(,\d{3})+|\d+)(\.\d+)?$")
_DATE_RE = re.compile(
    r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?)?$"
)
_SERIAL_RE = re.compile(r"^\d{1,6}(\.0+)?$")


def max_amount():
    return Decimal(str(settings.EXPENDITURE_MAX_AMOUNT))


def _text(value):
    """Full-width digits, ￥ and punctuation to their ordinary forms; surrounding blanks removed."""
    return unicodedata.normalize("NFKC", str(value)).strip()


def parse_amount(value):
    """An amount in yuan from a form field or a spreadsheet cell: ¥/￥ and 元, thousands separators and full-width
    digits are understood; exponent notation (1e3), signs and anything else are refused with a message. Returns a
    Decimal (not yet checked against the limits: that is ``validate_expenditure``'s)."""
    if isinstance(value, bool) or value is None:
        raise ValidationError(_("Enter the amount."), code="required")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValidationError(_("Enter an amount in yuan, for example 12800.50."), code="invalid")
        rounded = round(value, 2)
        if abs(value - rounded) > 1e-9 * max(1.0, abs(value)):
            raise ValidationError(_("Use at most two decimal places (fen)."), code="decimals")
        return Decimal(f"{rounded:.2f}")
    if isinstance(value, Decimal):
        text = str(value) if value.is_finite() else "x"
    else:
        text = _text(value)
    if not text:
        raise ValidationError(_("Enter the amount."), code="required")
    if "e" in text.lower() and re.search(r"\d[eE][+-]?\d", text):
        raise ValidationError(
            _("Write the amount in full, without exponent notation (“%(v)s”).") % {"v": text}, code="exponent"
        )
    text = re.sub(r"^(?:¥|RMB|CNY)\s*", "", text, flags=re.IGNORECASE)
    text = re.sub(r"\s*(?:元|圆)$", "", text).replace(" ", "")
    if text.startswith("-"):
        raise ValidationError(_("An amount is more than zero."), code="negative")
    if not _AMOUNT_RE.match(text):
        raise ValidationError(
            _("“%(v)s” is not an amount in yuan (for example 12800.50).") % {"v": _text(value)}, code="invalid"
        )
    try:
        return Decimal(text.replace(",", ""))
    except InvalidOperation as exc:  # pragma: no cover - the pattern admits only digits
        raise ValidationError(_("Enter an amount in yuan, for example 12800.50."), code="invalid") from exc


def parse_date(value):
    """A date from a form field or a spreadsheet cell: 2026-11-06, 2026/11/6, 2026.11.6, 2026年11月6日, a date cell,
    or an Excel serial number (46332). Raises ValidationError naming the value otherwise."""
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _serial(value)
    text = _text(value if value is not None else "")
    m = _DATE_RE.match(text)
    try:
        if m:
            return datetime.date(int(m[1]), int(m[2]), int(m[3]))
        if _SERIAL_RE.match(text):
            return _serial(float(text))
    except ValueError:
        pass
    raise ValidationError(
        _("“%(v)s” is not a date (for example 2026-11-06 or 2026/11/6).") % {"v": text}, code="invalid"
    )


def _serial(number):
    if number != int(number) or not 1 <= number <= 2958465:  # 9999-12-31
        raise ValidationError(
            _("“%(v)s” is not a date (for example 2026-11-06 or 2026/11/6).") % {"v": number}, code="invalid"
        )
    return EXCEL_EPOCH + datetime.timedelta(days=int(number))


def digits(value):
    return re.sub(r"\s", "", _text(value or ""))


def invoice_kind_of(code, number):
    """The invoice kind a spreadsheet row implies: a code means the older VAT invoice; a number alone, 数电票."""
    if code:
        return InvoiceKind.VAT
    return InvoiceKind.DIGITAL if number else InvoiceKind.NONE


def invoice_errors(kind, code, number):
    """{field: message} for the invoice fields."""
    errors = {}
    if kind == InvoiceKind.DIGITAL:
        if not re.fullmatch(r"\d{20}", number):
            errors["invoice_number"] = _("A fully digital e-invoice number has 20 digits.")
        if code:
            errors["invoice_code"] = _("A fully digital e-invoice has no invoice code; leave it empty.")
    elif kind == InvoiceKind.VAT:
        if not re.fullmatch(r"\d{10}|\d{12}", code):
            errors["invoice_code"] = _("A VAT invoice code has 10 or 12 digits.")
        if not re.fullmatch(r"\d{8}", number):
            errors["invoice_number"] = _("A VAT invoice number has 8 digits.")
    elif code or number:
        errors["invoice_kind"] = _("Choose the kind of invoice.")
    return errors


@dataclass
class Known:
    """What new entries of one project are compared with: its voucher numbers, the invoices already claimed (on any
    project), its running totals; and what earlier entries of the same batch took."""

    project: object
    vouchers: dict = field(default_factory=dict)  # voucher -> [Expenditure] of this project
    invoices: dict = field(default_factory=dict)  # (kind, code, number) -> first Expenditure claiming it
    batch_vouchers: dict = field(default_factory=dict)  # voucher -> row label of an earlier row of this batch
    batch_invoices: dict = field(default_factory=dict)
    added: Decimal = Decimal("0")  # amounts of this batch so far
    added_lines: dict = field(default_factory=dict)
    claims: list = field(default_factory=list)  # [(invoice key, first Expenditure)] refused as claimed before

    @classmethod
    def load(cls, project, *, vouchers=(), invoices=()):
        """One query for the project's entries with these voucher numbers, and batches of queries for the claimed
        invoices (keys (kind, code, number))."""
        known = cls(project=project)
        vouchers = sorted({v for v in vouchers if v})
        for i in range(0, len(vouchers), 500):
            for e in (
                _standing(Expenditure.objects.filter(project=project, voucher_no__in=vouchers[i : i + 500]))
                .only("pk", "date", "voucher_no", "amount", "project_id")
                .order_by("date", "pk")
            ):
                known.vouchers.setdefault(e.voucher_no, []).append(e)
        numbers = sorted({n for _k, _c, n in invoices if n})
        for i in range(0, len(numbers), 500):
            for e in (
                _standing(Expenditure.objects.filter(invoice_number__in=numbers[i : i + 500]))
                .select_related("project__organization")
                .order_by("created_at", "pk")
            ):
                known.invoices.setdefault((e.invoice_kind, e.invoice_code, e.invoice_number), e)
        return known

    def without(self, entry):
        """The comparisons as they will stand once ``entry`` is reversed (the corrected entry of a 红冲 is checked
        before the reversal is written, in the same step)."""
        self.vouchers = {v: [e for e in es if e.pk != entry.pk] for v, es in self.vouchers.items()}
        self.vouchers = {v: es for v, es in self.vouchers.items() if es}
        self.invoices = {k: e for k, e in self.invoices.items() if e.pk != entry.pk}
        self.added -= entry.amount
        if entry.line_id:
            self.added_lines[entry.line_id] = self.added_lines.get(entry.line_id, 0) - entry.amount
        return self


def _standing(entries):
    """The entries that still hold their voucher and invoice: neither reversed nor a reversal."""
    return entries.filter(reverses__isnull=True, reversal__isnull=True)


def _claim_message(first, by):
    """The invoice was claimed before: staff (and whoever may see the first project) get a link to the first
    claim; anyone else learns only that it was claimed elsewhere, nothing of the other organization."""
    if permissions.can(by, "project.view", first.project):
        url = f"{reverse('supervision:ledger', args=[first.project_id])}#entry-{first.pk}"
        return format_html(
            _("This invoice was already claimed: {link} ({date}, voucher {voucher}, {amount})."),
            link=format_html('<a href="{}">{}</a>', url, first.project.title),
            date=first.date.isoformat(),
            voucher=first.voucher_no,
            amount=format_money(first.amount),
        )
    return _("This invoice was already claimed in another project on the platform.")


def validate_expenditure(
    project,
    *,
    by,
    date,
    amount,
    line=None,
    category=None,
    item=None,
    receipt=None,
    receipt_pending=False,
    voucher_no="",
    invoice_kind="",
    invoice_code="",
    invoice_number="",
    payee_uscc="",
    staff_reason="",
    today=None,
    known=None,
    row=None,
    reverses=None,
):
    """{field: [messages]} for one entry; empty when it may be recorded. ``item`` is a line named in a file (refused
    when no approved line of the category carries it); ``known`` carries the comparisons of a batch (``row``
    labels this entry in it for later rows' messages); ``today`` defaults to the local date. ``reverses``: the
    entry is the reversal (红冲) of that original and is checked in the reversal mode (see the module)."""
    errors: dict[str, list] = {}

    def add(name, message):
        errors.setdefault(name, []).append(message)

    today = today or timezone.localdate()
    # The project's state.
    if project.status == ProjectStatus.CLOSED:
        add("__all__", _("The project is closed; its ledger takes no more entries."))
    elif project.status == ProjectStatus.SUSPENDED:
        if not (permissions.is_staff(by) and staff_reason.strip()):
            add(
                "__all__",
                _("The project is suspended (%(reason)s); only staff can record an entry, with a reason.")
                % {"reason": project.flag_reason or _("no reason recorded")},
            )
    if reverses is not None:
        _check_reversal(
            add,
            project,
            reverses,
            date=date,
            amount=amount,
            line=line,
            category=category,
            voucher_no=voucher_no,
            invoice=(invoice_kind, invoice_code, invoice_number),
        )
        return errors
    # Amount.
    if amount is None:
        add("amount", _("Enter the amount."))
    else:
        if not isinstance(amount, Decimal) or not amount.is_finite():
            amount = None
            add("amount", _("Enter an amount in yuan, for example 12800.50."))
        elif amount <= 0:
            add("amount", _("An amount is more than zero."))
        elif int(amount.as_tuple().exponent) < -2:  # finite here, so the exponent is a number
            add("amount", _("Use at most two decimal places (fen)."))
        elif amount > max_amount():
            add("amount", _("A single entry is at most %(max)s.") % {"max": format_money(max_amount())})
    amount_ok = "amount" not in errors
    # Date.
    if date is None:
        add("date", _("Enter the date."))
    elif date < project.period_start or date > project.period_end:
        add(
            "date",
            _("The date is outside the project period (%(start)s to %(end)s).")
            % {"start": project.period_start.isoformat(), "end": project.period_end.isoformat()},
        )
    elif date > today:
        add(
            "date",
            _("The date %(date)s is in the future; record an expense once it is paid.") % {"date": date.isoformat()},
        )
    # Category and line.
    if line is not None and line.project_id != project.pk:
        add("line", _("That budget line belongs to another project."))
    elif line is None and category is None:
        add("line", _("Choose the budget line."))
    elif line is None and item:
        add(
            "line",
            _("“%(item)s” is not an approved budget line of “%(category)s”.")
            % {"item": item, "category": category.name},
        )
    if category is not None and category.competition_id != project.competition_id:
        add("category", _("That budget category is not part of this round."))
    # Receipt.
    threshold = project.competition.receipt_threshold
    if amount_ok and amount > threshold and not receipt and not receipt_pending:
        add("receipt", _("A receipt is required for amounts above %(x)s.") % {"x": format_money(threshold)})
    # Invoice and payee.
    for name, message in invoice_errors(invoice_kind, invoice_code, invoice_number).items():
        add(name, message)
    if payee_uscc:
        try:
            validate_uscc(payee_uscc)
        except ValidationError as exc:
            add("payee_uscc", exc.messages[0])
    known = known or Known.load(project, vouchers=[voucher_no], invoices=[(invoice_kind, invoice_code, invoice_number)])
    # The same voucher in this project, the same invoice anywhere.
    if voucher_no:
        earlier = known.vouchers.get(voucher_no, [])
        if earlier:
            add(
                "voucher_no",
                _("Voucher number %(v)s is already recorded in this ledger: %(rows)s.")
                % {
                    "v": voucher_no,
                    "rows": "; ".join(f"{e.date.isoformat()} {format_money(e.amount)}" for e in earlier[:5]),
                },
            )
        elif voucher_no in known.batch_vouchers:
            add(
                "voucher_no",
                _("Voucher number %(v)s is also on %(row)s.")
                % {"v": voucher_no, "row": known.batch_vouchers[voucher_no]},
            )
    key = (invoice_kind, invoice_code, invoice_number)
    if invoice_number and not any(n in errors for n in ("invoice_kind", "invoice_code", "invoice_number")):
        if key in known.invoices:
            add("invoice_number", _claim_message(known.invoices[key], by))
            known.claims.append((key, known.invoices[key]))
        elif key in known.batch_invoices:
            add("invoice_number", _("This invoice is also on %(row)s.") % {"row": known.batch_invoices[key]})
    # The running totals must still fit their fields.
    if amount_ok and amount is not None:
        if project.spent_total + known.added + amount > MAX_MONEY:
            add(
                "amount",
                _("With this entry the project's spending would exceed %(max)s, more than the ledger can hold.")
                % {"max": format_money(MAX_MONEY)},
            )
        elif line is not None and line.spent + known.added_lines.get(line.pk, 0) + amount > MAX_MONEY:
            add(
                "amount",
                _("With this entry the line's spending would exceed %(max)s.") % {"max": format_money(MAX_MONEY)},
            )
    if row is not None:
        if voucher_no:
            known.batch_vouchers.setdefault(voucher_no, row)
        if invoice_number:
            known.batch_invoices.setdefault(key, row)
        if amount_ok and amount is not None:
            known.added += amount
            if line is not None:
                known.added_lines[line.pk] = known.added_lines.get(line.pk, 0) + amount
    return errors


def _check_reversal(add, project, original, *, date, amount, line, category, voucher_no, invoice):
    """The reversal mode of ``validate_expenditure``: the mirror of an ordinary entry of the project, once."""
    if original.project_id != project.pk:
        add("__all__", _("That entry belongs to another project."))
        return
    if original.reverses_id:
        add("__all__", _("This entry is itself a reversal."))
        return
    if original.amount <= 0:  # pragma: no cover - the database holds only positive ordinary entries
        add("__all__", _("Only an ordinary entry can be reversed."))
        return
    if Expenditure.objects.filter(reverses=original).exists():
        add("__all__", _("This entry has already been reversed."))
        return
    if not isinstance(amount, Decimal) or not amount.is_finite() or amount != -original.amount:
        add(
            "amount",
            _("A reversal is exactly the negative of the entry it reverses (%(amount)s).")
            % {"amount": format_money(-original.amount)},
        )
    line_id = line.pk if line is not None else None
    category_id = (line.category_id if line is not None else category.pk) if (line or category) else None
    if (date, line_id, category_id, voucher_no) != (
        original.date,
        original.line_id,
        original.category_id,
        original.voucher_no,
    ) or tuple(invoice) != (original.invoice_kind, original.invoice_code, original.invoice_number):
        add("__all__", _("A reversal carries the date, budget line, voucher and invoice of the entry it reverses."))
    if isinstance(amount, Decimal) and amount.is_finite() and project.spent_total + amount < -MAX_MONEY:
        add("amount", _("The project's spending would fall below what the ledger can hold."))  # pragma: no cover


def require_valid(errors):
    """Raise the errors of ``validate_expenditure`` as one ValidationError (per field)."""
    if errors:
        raise ValidationError({name: [ValidationError(m) for m in messages] for name, messages in errors.items()})
