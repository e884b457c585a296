from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    """Every PDF view, and the final documents rendered once in the background and kept (``stored``, ``final``)."""

    name = "venture.documents"
    label = "documents"

    def ready(self):
        # The kinds of final document and the audit actions that make one final; they name views' context builders
        # and the stages' models, which exist only once the app registry is ready.
        from . import final  # noqa: PLC0415

        final.connect()
