from django.apps import AppConfig


class EvaluationConfig(AppConfig):
    """Search quality on evaluation files (``manage.py evaluate``); no models."""

    name = "evaluation"
