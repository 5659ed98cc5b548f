"""What the catalog announces to the apps built on it. The catalog is the ground floor: it imports none of them
(search, embeddings, recommendations); they listen here, connecting their receivers in ``AppConfig.ready``
(``search/receivers.py``, ``embeddings/receivers.py``), as they do for ``embeddings.signals.generation_activated``.

Both signals are sent with ``sender=Product`` and ``product_ids`` (a list of ids), inside the transaction that
wrote the change. A receiver that writes (search documents, stale flags) therefore writes in that same
transaction and rolls back with it; one that must wait for the commit (cache invalidation, queuing a task)
registers ``transaction.on_commit`` itself. A receiver that raises fails the write, as a failing write would.

Django calls receivers in the order they were connected (the ``INSTALLED_APPS`` order of the listening apps),
so no receiver may depend on another having run: each reads only catalog rows and writes only its own app's
data (the search document reads no embedding column; marking stale reads no search row), and each commit hook
touches its own keys.
"""

from django.dispatch import Signal

# What products say changed (text, categories, photos, variants, price, reviews): keyword ``product_ids``.
# Sent by ``catalog.services.products_changed`` (every product write: import, write API, admin, reviews).
products_changed = Signal()

# Products were deleted (the rows are already gone; ``product_ids`` are their former ids). Their own rows in other
# apps (search documents, vectors, similar-item lists) went with them by ``ON DELETE CASCADE``; what is left for
# listeners is what no foreign key reaches (cached search results). Sent by the product admin's delete.
products_deleted = Signal()

# The shop's attribute setup changed (``catalog.services.attribute_setup_save``): keyword ``facets_changed``, whether
# the attributes that are facets changed (search documents carry their values). Sent inside the saving transaction.
attribute_setup_changed = Signal()
