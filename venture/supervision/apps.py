from django.apps import AppConfig


class SupervisionConfig(AppConfig):
    name = "venture.supervision"
    label = "supervision"
