"""Background tasks of the accounts app."""

from django.contrib.auth.forms import PasswordResetForm
from django.utils import translation

from venture.background.tasks import background_task

RESET_TEMPLATES = {
    "email_template_name": "accounts/password_reset_email.txt",
    "subject_template_name": "accounts/password_reset_subject.txt",
}


@background_task(attempts=3)
def send_password_reset(*, email, domain, use_https, language):
    """Look the address up and mail a reset link to each active account that has it (none: nothing happens). The
    request only enqueues this, whatever the address, so its duration says nothing about who has an account. The
    mail itself goes through the mail queue (``deliver_mail``). Idempotent enough: a retry sends a fresh link."""
    form = PasswordResetForm({"email": email})
    if not form.is_valid():
        return {"sent": False}
    with translation.override(language):
        form.save(domain_override=domain, use_https=use_https, **RESET_TEMPLATES)
    return {"sent": True}
