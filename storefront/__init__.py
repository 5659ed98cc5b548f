"""The demo storefront page: a shop front built only on the public JSON API (``/api/v1/``)."""
