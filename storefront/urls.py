"""The demo storefront's pages (public): the search page at ``/`` and a product page."""

from django.urls import path

from .views import home, product

app_name = "storefront"

urlpatterns = [
    path("", home, name="home"),
    path("products/<str:sku>/", product, name="product"),
]
