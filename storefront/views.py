"""Pages of the demo storefront. They only render the page shell; the data comes from the public JSON API in
the browser (``static/storefront/shop.js``), exactly as a shop's own front end would get it."""

from django.shortcuts import render
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_GET

SHOP_NAME = "Luma Outdoor"


@require_GET
@ensure_csrf_cookie  # a signed-in staff user's photo upload (a POST to the API) needs the token
def home(request):
    return render(request, "storefront/home.html", {"shop_name": SHOP_NAME})


@require_GET
@ensure_csrf_cookie
def product(request, sku: str):
    return render(request, "storefront/product.html", {"shop_name": SHOP_NAME, "sku": sku})
