"""Two-factor sign-in (TOTP with django-otp) and the backup codes (django-otp's static device).

The roles in ``settings.TWO_FACTOR_ROLES`` must enrol and verify a code at every sign-in (the session policy
middleware sends them to the enrolment or verification page first); anyone else may enrol voluntarily, and then is
asked for a code too. A member who lost their phone and backup codes is reset by another staff member, with a reason.
"""

from base64 import b32encode

import segno
from django.conf import settings
from django.db import transaction
from django_otp import devices_for_user
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from venture.audit.services import record

from .models import Role

BACKUP_CODES = 10
SESSION_PENDING = "two_factor_pending"


def effective_role(user):
    return Role.STAFF if user.is_superuser else user.role


def required_for(user):
    return effective_role(user) in settings.TWO_FACTOR_ROLES


def is_enrolled(user):
    return any(True for _ in devices_for_user(user, confirmed=True))


def pending_device(user):
    """The TOTP device being enrolled (unconfirmed), created on first use; a new secret each time enrolment starts."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=False)
    return device


def secret_base32(device):
    return b32encode(device.bin_key).decode()


def qr_svg(device):
    return segno.make(device.config_url, error="m").svg_inline(scale=4, dark="#000", light="#fff")


@transaction.atomic
def confirm_enrolment(*, user, device, token):
    """Confirm the pending TOTP device with a code from the app; return the new backup codes, or None if the code
    is wrong. Any earlier device and backup codes are replaced."""
    if device.user_id != user.pk or device.confirmed or not device.verify_token(token):
        return None
    TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    codes = new_backup_codes(user=user)
    record(actor=user, action="account.two_factor_enrolled", obj=user)
    return device, codes


def new_backup_codes(*, user):
    StaticDevice.objects.filter(user=user).delete()
    static = StaticDevice.objects.create(user=user, name="backup codes", confirmed=True)
    codes = [StaticToken.random_token() for _ in range(BACKUP_CODES)]
    StaticToken.objects.bulk_create([StaticToken(device=static, token=code) for code in codes])
    return codes


@transaction.atomic
def reset_two_factor(*, user, by, reason):
    """Remove a member's authenticator and backup codes so they enrol again at their next sign-in (audited)."""
    if by.pk == user.pk:
        raise ValueError("Two-factor recovery is done by another staff member.")
    totp, static = TOTPDevice.objects.filter(user=user), StaticDevice.objects.filter(user=user)
    removed = totp.count() + static.count()
    totp.delete()
    static.delete()
    record(actor=by, action="account.two_factor_reset", obj=user, note=reason, after={"devices_removed": removed})
    return removed
