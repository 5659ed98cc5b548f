from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig


class ShopAdminConfig(AdminConfig):
    """``django.contrib.admin`` with the project's admin site as the default ``admin.site``."""

    default_site = "dashboard.sites.ShopAdminSite"


class DashboardConfig(AppConfig):
    name = "dashboard"
    verbose_name = "Dashboard"
