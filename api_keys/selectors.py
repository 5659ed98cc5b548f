"""Reads for API keys: what a key with filters may see of the catalog."""

from django.db.models.expressions import RawSQL

from search.filters import Filters, filters_product_ids_sql


def products_restrict(*, filters: dict, products):
    """``products`` (a Product queryset) narrowed to those a key's ``filters`` admit: the product list, a product
    page and similar items of a key that holds searches to a brand or category show nothing outside it either."""
    if not filters:
        return products
    sql, params = filters_product_ids_sql(Filters.from_dict(filters))
    return products.filter(id__in=RawSQL(sql, params))
