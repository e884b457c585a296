"""Validators for Chinese identifiers and money, shared by every form."""

import re
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from stdnum.cn import uscc as stdnum_uscc
from stdnum.exceptions import InvalidChecksum, InvalidFormat, InvalidLength

MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")
MAX_MONEY = Decimal("9999999999.99")


def validate_uscc(value):
    """统一社会信用代码: 18 characters with a GB 32100-2015 check digit (python-stdnum implements the algorithm)."""
    try:
        return stdnum_uscc.validate(value)
    except InvalidLength as exc:
        raise ValidationError(_("A unified social credit code has exactly 18 characters."), code="length") from exc
    except InvalidChecksum as exc:
        raise ValidationError(
            _("The check digit of this unified social credit code is wrong; please check the code."), code="checksum"
        ) from exc
    except InvalidFormat as exc:
        raise ValidationError(
            _("This is not a valid unified social credit code (digits and capital letters, no I, O, S, V, Z)."),
            code="format",
        ) from exc


def normalize_mobile(value):
    digits = re.sub(r"[\s-]", "", value or "")
    if digits.startswith("+86"):
        digits = digits[3:]
    return digits


def validate_mobile(value):
    if not MOBILE_RE.match(normalize_mobile(value)):
        raise ValidationError(_("Enter a valid mainland mobile number (11 digits starting with 1)."), code="mobile")


def validate_money(value):
    if value is None:
        return
    try:
        value = Decimal(value)
    except (InvalidOperation, TypeError) as exc:
        raise ValidationError(_("Enter an amount in yuan."), code="invalid") from exc
    if value < 0:
        raise ValidationError(_("An amount cannot be negative."), code="negative")
    if value > MAX_MONEY:
        raise ValidationError(_("This amount is too large."), code="too_large")
    if value.as_tuple().exponent < -2:
        raise ValidationError(_("Use at most two decimal places (fen)."), code="decimals")
