"""Every write of an API key (created, changed in the admin, revoked, deleted) makes every process read keys
again, once the write commits (``api_keys.services.api_keys_changed``)."""

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from .models import ApiKey
from .services import api_keys_changed


@receiver(post_save, sender=ApiKey)
@receiver(post_delete, sender=ApiKey)
def api_key_written(sender, **kwargs) -> None:
    if kwargs.get("update_fields") == frozenset({"last_used_at"}):
        return
    transaction.on_commit(api_keys_changed)
