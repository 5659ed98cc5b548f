"""The staff pages beyond the model admin: embedding operations, search analytics and the search playground,
served by the project's admin site (``sites.ShopAdminSite``)."""
