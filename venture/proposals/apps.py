from django.apps import AppConfig

from venture import permissions


class ProposalsConfig(AppConfig):
    name = "venture.proposals"
    label = "proposals"

    def ready(self):
        permissions.load_rules(self)
        # Services import models, which exist only once the app registry is ready.
        from venture.competitions.services import register_lockout_counter  # noqa: PLC0415

        from .services import drafts_locked_out  # noqa: PLC0415

        register_lockout_counter(drafts_locked_out)
