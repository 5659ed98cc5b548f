"""Storefront API routes of the catalog app (``/api/v1/``)."""

urlpatterns: list = []
