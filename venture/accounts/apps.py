from django.apps import AppConfig

# Registers the PDF environment system check (venture.W001/W002: Chinese font, HarfBuzz subsetting). venture.pdf
# imports no model and no WeasyPrint at import time, so it is safe to load while the app registry is populated.
from venture import (
    pdf,  # noqa: F401
    permissions,
)


class AccountsConfig(AppConfig):
    name = "venture.accounts"
    label = "accounts"

    def ready(self):
        permissions.load_rules(self)
        # Signal receivers are connected once the app registry is ready (they import the user model).
        from . import signals  # noqa: F401, PLC0415  (sign-in bookkeeping)
