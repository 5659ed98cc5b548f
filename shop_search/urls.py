"""Top-level URL map: the demo storefront page (``/``), admin, the storefront API (``/api/v1/``) and, where
enabled, uploaded media."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from .views import health, media, ready

urlpatterns = [
    path("", include("storefront.urls")),
    path("admin/", admin.site.urls),
    path("healthz", health, name="health"),  # liveness
    path("readyz", ready, name="ready"),  # readiness: this process has warmed up (shop_search/readiness.py)
    # the storefront API: each app routes its own endpoints under the one prefix
    path("api/v1/", include("catalog.urls")),
    path("api/v1/", include("search.urls")),
    path("api/v1/", include("recommendations.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
]

handler400 = "shop_search.views.bad_request"
handler403 = "shop_search.views.permission_denied"
handler404 = "shop_search.views.page_not_found"
handler500 = "shop_search.views.server_error"

if settings.SERVE_MEDIA:
    urlpatterns += [re_path(r"^media/(?P<path>.*)$", media)]
