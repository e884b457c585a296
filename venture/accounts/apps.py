from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "venture.accounts"
    label = "accounts"

    def ready(self):
        # Registers the PDF environment system check (venture.W001/W002: Chinese font, HarfBuzz subsetting).
        from venture import pdf  # noqa: F401

        from . import signals  # noqa: F401  (sign-in bookkeeping)
