"""Signals other apps listen to (the search cache warms up when a generation becomes active)."""

from django.dispatch import Signal

# Sent after commit when a generation becomes active; keyword argument ``generation_id``.
generation_activated = Signal()
