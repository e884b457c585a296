from django.apps import AppConfig


class AwardsConfig(AppConfig):
    name = "venture.awards"
    label = "awards"
