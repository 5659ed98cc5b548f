"""Top-level URL map: admin, the storefront API (``/api/v1/``) and, where enabled, uploaded media."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.generic import RedirectView
from django.views.static import serve
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from .views import health

urlpatterns = [
    # The storefront page comes later (issue 5); until then the root shows the API.
    path("", RedirectView.as_view(pattern_name="api-docs", permanent=False), name="home"),
    path("admin/", admin.site.urls),
    path("healthz", health, name="health"),
    path("api/v1/", include("catalog.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
]

if settings.SERVE_MEDIA:
    urlpatterns += [
        re_path(r"^media/(?P<path>.*)$", serve, {"document_root": settings.MEDIA_ROOT}),
    ]
