from django.apps import AppConfig


class ResultsConfig(AppConfig):
    name = "venture.results"
    label = "results"
