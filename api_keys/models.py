"""API keys, the way Typesense and Algolia scope them: search-only keys a storefront can embed in its pages (each
with its own rate limit, and optionally the origins it may be used from and filters every search it makes is held
to), and admin keys for writes, which act as a staff user. Only a hash of a key is stored."""

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models


class ApiKey(models.Model):
    class Scope(models.TextChoices):
        SEARCH = "search", "search only (storefront)"
        ADMIN = "admin", "admin (writes, acts as its staff user)"

    name = models.CharField(max_length=100, help_text="Who uses it, e.g. 'storefront' or 'ERP sync'.")
    scope = models.CharField(max_length=8, choices=Scope.choices, default=Scope.SEARCH)
    # The key's first characters ("ss_search_Ab12Cd34"), to recognise it in lists and logs.
    prefix = models.CharField(max_length=24, unique=True)
    # SHA-256 of the whole key: keys are 192 random bits, so a fast hash is as safe as a slow one, and a request
    # finds its key with one indexed lookup.
    hashed_key = models.CharField(max_length=64, unique=True)
    rate = models.CharField(
        max_length=32, blank=True, help_text="Requests per client address, e.g. '100/min'; blank: SEARCH_ANON_RATE."
    )
    allowed_origins = ArrayField(
        models.CharField(max_length=255), default=list, blank=True,
        help_text="Sites the key may be used from (https://shop.example.com); empty: any.",
    )  # fmt: skip
    filters = models.JSONField(
        default=dict, blank=True, help_text='Filters every search with this key is held to, e.g. {"brand": "Luma"}.'
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE,
        help_text="The staff user an admin key acts as.",
    )  # fmt: skip
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = "API key"
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(scope="admin") | models.Q(user__isnull=False), name="admin_key_has_user"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…, {self.scope}{', revoked' if self.revoked_at else ''})"

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def products_restrict(self, products):
        """The product queryset ``products`` narrowed to what this key's filters admit (all of it without filters):
        what the catalog reads call on ``request.auth``."""
        from .selectors import products_restrict

        return products_restrict(filters=self.filters, products=products)

    @property
    def search_restriction(self) -> dict:
        """The filters every search with this key is held to (``search.filters.Filters.as_dict`` form): what the
        search API reads from ``request.auth``."""
        return self.filters
