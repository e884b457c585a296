from django.apps import AppConfig


class ScreeningConfig(AppConfig):
    name = "venture.screening"
    label = "screening"
