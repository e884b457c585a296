from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "venture.accounts"
    label = "accounts"
