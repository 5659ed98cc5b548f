"""The project's admin site: staff only (anonymous visitors get the login page, signed-in non-staff users a
403), with the operations, analytics, playground and catalog quality pages beside the model admin."""

from __future__ import annotations

from functools import update_wrapper

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.urls import path, reverse


class ShopAdminSite(admin.AdminSite):
    site_header = "shop-search admin"
    site_title = "shop-search admin"
    index_title = "Catalog, embeddings and search"
    index_template = "admin/dashboard/index.html"

    def admin_view(self, view, cacheable=False):
        """Like Django's, but a signed-in user who is not staff gets 403 instead of the login form again."""
        protected = super().admin_view(view, cacheable)

        def inner(request, *args, **kwargs):
            if (
                request.user.is_authenticated
                and not self.has_permission(request)
                and request.path != reverse("admin:logout", current_app=self.name)
            ):
                raise PermissionDenied
            return protected(request, *args, **kwargs)

        return update_wrapper(inner, view)

    def get_urls(self):
        from . import views

        pages = [
            path("operations/", self.admin_view(views.operations), name="operations"),
            path("operations/run/", self.admin_view(views.operations_run), name="operations-run"),
            path("operations/jobs/", self.admin_view(views.jobs_status), name="jobs-status"),
            path("analytics/", self.admin_view(views.analytics), name="analytics"),
            path("playground/", self.admin_view(views.playground), name="playground"),
            path("catalog-quality/", self.admin_view(views.catalog_quality), name="catalog-quality"),
            path("catalog-quality/run/", self.admin_view(views.catalog_quality_run), name="catalog-quality-run"),
            path(
                "catalog-quality/findings/<int:finding_id>/dismiss/",
                self.admin_view(views.catalog_quality_dismiss),
                name="catalog-quality-dismiss",
            ),
            path(
                "catalog-quality/dismissals/<int:dismissal_id>/restore/",
                self.admin_view(views.catalog_quality_restore),
                name="catalog-quality-restore",
            ),
            path("suggestions/", self.admin_view(views.suggestions), name="suggestions"),
            path("suggestions/hide/", self.admin_view(views.suggestions_hide), name="suggestions-hide"),
            path("suggestions/refresh/", self.admin_view(views.suggestions_refresh), name="suggestions-refresh"),
            path("facet-setup/", self.admin_view(views.facet_setup), name="facet-setup"),
            path("facet-setup/progress/", self.admin_view(views.facet_setup_progress), name="facet-setup-progress"),
            path("facet-setup/rebuild/", self.admin_view(views.facet_setup_rebuild), name="facet-setup-rebuild"),
        ]
        return pages + super().get_urls()
