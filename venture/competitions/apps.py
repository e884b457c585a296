from django.apps import AppConfig


class CompetitionsConfig(AppConfig):
    name = "venture.competitions"
    label = "competitions"
