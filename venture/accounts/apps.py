from django.apps import AppConfig

# Registers the PDF environment system check (venture.W001/W002: Chinese font, HarfBuzz subsetting). venture.pdf
# imports no model and no WeasyPrint at import time, so it is safe to load while the app registry is populated.
from venture import pdf  # noqa: F401


class AccountsConfig(AppConfig):
    name = "venture.accounts"
    label = "accounts"
