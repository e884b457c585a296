from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "venture.demo"
    label = "demo"
    verbose_name = "Demo data"
