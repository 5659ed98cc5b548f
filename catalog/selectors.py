"""Catalog reads beyond one ORM call: the shop's attribute setup (facets, labels, order, filterable, sortable).

``attribute_setup()`` is read on every search (which facets to count and how to call them), so each process keeps
it in memory: it is read again when ``attribute_setup_invalidate`` bumps its version in the cache (seen by the
process that bumped it at once, by the others within ``SETUP_VERSION_CHECK_SECONDS``), or after
``SETUP_MAX_AGE_SECONDS`` (the cache being down).
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.cache import cache

logger = logging.getLogger(__name__)

# The product fields that are facets of their own (not catalog attributes): category (its path and every ancestor),
# brand, price (in buckets) and rating (n stars and up). Always filterable; a search document always carries their
# values (the keyword signal reads the category facets), whether the shop shows them as facets or not.
BUILTINS = ("category", "brand", "price", "rating")


@dataclass(frozen=True)
class AttributeSpec:
    """One attribute's setup as it takes effect (stored, or the default)."""

    name: str
    label: str
    position: int
    facet: bool
    filterable: bool
    sortable: bool
    stored: bool = False  # False: the default of a shop that set nothing for it

    @property
    def builtin(self) -> bool:
        return self.name in BUILTINS

    def as_dict(self) -> dict:
        return {"name": self.name, "label": self.label, "position": self.position, "facet": self.facet,
                "filterable": self.filterable, "sortable": self.sortable, "builtin": self.builtin}  # fmt: skip


def label_default(name: str) -> str:
    """The label of an attribute nobody named: its key in words (``eco_collection`` -> ``Eco collection``)."""
    words = re.sub(r"[_\s]+", " ", name).strip()
    return words[:1].upper() + words[1:] if words else name


def _default(name: str, position: int, *, facet: bool, sortable: bool = False) -> AttributeSpec:
    return AttributeSpec(name, label_default(name), position, facet=facet, filterable=True, sortable=sortable)


# A shop that set nothing behaves as search always did: these facets, in this order (positions 10 apart: room to
# put one before or between them). Any other attribute is filterable, not a facet, not sortable, and comes after
# them (by name).
DEFAULTS = {
    spec.name: spec
    for spec in (
        _default("category", 10, facet=True),
        _default("brand", 20, facet=True),
        _default("color", 30, facet=True),
        _default("size", 40, facet=True),
        _default("price", 50, facet=True, sortable=True),
        _default("rating", 60, facet=True, sortable=True),
    )
}
OTHER_POSITION = 1000


@dataclass(frozen=True)
class AttributeSetup:
    """The shop's attribute setup: every attribute it set something for and the defaults, by position."""

    specs: tuple[AttributeSpec, ...]

    @classmethod
    def from_stored(cls, stored: Iterable[AttributeSpec]) -> AttributeSetup:
        specs = dict(DEFAULTS)
        specs.update({spec.name: spec for spec in stored})
        return cls(tuple(sorted(specs.values(), key=lambda spec: (spec.position, spec.name))))

    def get(self, name: str) -> AttributeSpec:
        for spec in self.specs:
            if spec.name == name:
                return spec
        return _default(name, OTHER_POSITION, facet=False)

    def label(self, name: str) -> str:
        return self.get(name).label

    @property
    def facets(self) -> tuple[str, ...]:
        """The facet names search shows, in display order (built-ins included)."""
        return tuple(spec.name for spec in self.specs if spec.facet)

    @property
    def attribute_facets(self) -> tuple[str, ...]:
        """The catalog attributes that are facets (what a search document must carry beyond the built-ins)."""
        return tuple(name for name in self.facets if name not in BUILTINS)

    def filterable(self, name: str) -> bool:
        return name in BUILTINS or self.get(name).filterable

    @property
    def sortable(self) -> tuple[str, ...]:
        return tuple(spec.name for spec in self.specs if spec.sortable)

    def facet_list(self) -> list[dict]:
        """What a search response says of its facets: name and label, in display order."""
        return [{"name": spec.name, "label": spec.label} for spec in self.specs if spec.facet]

    def ordered(self, names: Iterable[str]) -> list[str]:
        """``names`` in display order: declared ones by position, the others after them by name."""
        return sorted(names, key=lambda name: (self.get(name).position, name))

    @property
    def fingerprint(self) -> str:
        """Changes whenever what search shows changes (a cached result made under another setup is not served)."""
        text = repr([spec.as_dict() for spec in self.specs])
        return hashlib.sha1(text.encode()).hexdigest()[:12]


def attribute_setup_read() -> AttributeSetup:
    """The setup as stored now (one query; the defaults while its table does not exist yet: an earlier migration
    of another app building search documents)."""
    from .models import AttributeSetting

    if not _table_exists():
        return AttributeSetup.from_stored([])
    rows = AttributeSetting.objects.all()
    return AttributeSetup.from_stored(
        AttributeSpec(row.name, row.label or label_default(row.name), row.position, row.facet,
                      row.filterable or row.name in BUILTINS, row.sortable, stored=True)
        for row in rows
    )  # fmt: skip


_table_seen = False


def _table_exists() -> bool:
    """Whether the setup's table exists (asked once per process, until it does)."""
    global _table_seen
    if not _table_seen:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SELECT to_regclass('catalog_attributesetting') IS NOT NULL")
            _table_seen = cursor.fetchone()[0]
    return _table_seen


SETUP_VERSION_KEY = "catalog:attribute-setup-version"
SETUP_VERSION_CHECK_SECONDS = 1.0
SETUP_MAX_AGE_SECONDS = 60.0


class _Cached:
    lock = threading.Lock()
    setup: AttributeSetup | None = None
    version: object = None
    read_at = 0.0
    checked_at = 0.0


def attribute_setup() -> AttributeSetup:
    """This process's copy of the setup (see the module's docstring for when it is read again)."""
    now = time.monotonic()
    setup = _Cached.setup
    if setup is not None and now - _Cached.checked_at < SETUP_VERSION_CHECK_SECONDS:
        return setup
    try:
        version = cache.get(SETUP_VERSION_KEY)
    except Exception:  # noqa: BLE001 - no cache: read again on age only
        version = _Cached.version
    with _Cached.lock:
        if _Cached.setup is None or version != _Cached.version or now - _Cached.read_at >= SETUP_MAX_AGE_SECONDS:
            _Cached.setup = attribute_setup_read()
            _Cached.version = version
            _Cached.read_at = now
        _Cached.checked_at = now
        return _Cached.setup


def attribute_setup_invalidate() -> None:
    """Make every process read the setup again (after it changed)."""
    try:
        try:
            cache.incr(SETUP_VERSION_KEY)
        except ValueError:  # no version yet
            if not cache.add(SETUP_VERSION_KEY, 1, timeout=None):
                cache.incr(SETUP_VERSION_KEY)
    except Exception:  # noqa: BLE001 - the change stands; other processes follow within SETUP_MAX_AGE_SECONDS
        logger.warning("cache unreachable: other processes see the attribute setup change within a minute")
    attribute_setup_clear()


def attribute_setup_clear() -> None:
    """Forget this process's copy (tests, after switching databases)."""
    _Cached.setup = None
    _Cached.checked_at = 0.0


@dataclass(frozen=True)
class AttributeOverview:
    """One line of the facet setup page: an attribute (or built-in), what applies to it, how many products have
    it and a few of its commonest values."""

    spec: AttributeSpec
    products: int | None  # None: a built-in
    examples: list[str]


# Values shown per attribute on the facet setup page.
OVERVIEW_EXAMPLES = 4


def attribute_setup_overview() -> list[AttributeOverview]:
    """Every built-in and catalog attribute with its setup, in display order (two queries)."""
    from django.db import connection

    setup = attribute_setup_read()
    counts = attribute_names_in_catalog()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name, (array_agg(value ORDER BY n DESC, value))[1:%s] FROM (SELECT a.key AS name, x AS value, "
            "count(*) AS n FROM (SELECT attributes FROM catalog_product UNION ALL SELECT attributes FROM "
            "catalog_variant) o, jsonb_each(CASE WHEN jsonb_typeof(o.attributes) = 'object' THEN o.attributes ELSE "
            "'{}'::jsonb END) a, jsonb_array_elements_text(CASE jsonb_typeof(a.value) WHEN 'array' THEN a.value "
            "WHEN 'null' THEN '[]'::jsonb ELSE jsonb_build_array(a.value) END) x GROUP BY 1, 2) v GROUP BY name",
            [OVERVIEW_EXAMPLES],
        )
        examples = dict(cursor.fetchall())
    names = setup.ordered({spec.name for spec in setup.specs} | set(counts))
    return [
        AttributeOverview(
            spec=setup.get(name),
            products=None if name in BUILTINS else counts.get(name, 0),
            examples=list(examples.get(name) or []),
        )
        for name in names
    ]


def attribute_names_in_catalog() -> dict[str, int]:
    """Every attribute name of the catalog's products and variants, with how many products have it."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name, count(DISTINCT product_id) FROM ("
            "SELECT jsonb_object_keys(attributes) AS name, id AS product_id FROM catalog_product UNION ALL "
            "SELECT jsonb_object_keys(attributes), product_id FROM catalog_variant) a GROUP BY name"
        )
        return dict(cursor.fetchall())
