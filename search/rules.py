"""Query rules: a shop's own decisions on a search, which win over the ranking (``search.models.QueryRule``).

A rule is in force while it is enabled and inside its time window (start inclusive, end exclusive). It applies
to a search when every condition it sets holds: the query (equals, contains the words of, or matches a regular
expression, on the query folded to lower case with single spaces), the category being browsed or searched (the
rule's category or one below it), filters present (a name, or a name with a value).

What the rules in force decide for one search (``rules_plan``), in their order (priority, then id):

- **before** the search: the query is replaced (the first rule that replaces it), filters are added (a filter
  already set by the shopper or an API key is kept: a rule only narrows), SKUs are hidden (left out of the match
  set like a filter, so the total and facets stay exact), the answer carries a redirect (the first one);
- **after** fusion (``search.selectors``): boosts and buries reorder the members read into tiers (the sum of the
  weights of the boosts a product matches, highest first; relevance inside a tier; on a browsed category, the
  default order inside a tier), then pinned SKUs take their positions.
  A pinned SKU stays out when the filters leave it out ("a pinned SKU filtered out stays out"); one that was not
  a member joins the match set (the total counts it). An explicit sort (price, newest...) is the shopper's: boosts
  do not reorder it, pins still hold.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime

from django.utils import timezone

from shop_search.db import read_connection

from .filters import Filters, filters_sql

# The longest regular expression a rule may hold, and how long a query it is matched against (a query is at most
# SEARCH_MAX_QUERY_LENGTH characters anyway).
PATTERN_MAX_LENGTH = 256


def normalize_query(text: str) -> str:
    return " ".join(text.lower().split())


@dataclass(frozen=True)
class Rule:
    id: int
    name: str
    match: str
    pattern: str
    category: str
    filter_present: dict
    starts_at: datetime | None
    ends_at: datetime | None
    pins: tuple[tuple[str, int], ...]
    hides: tuple[str, ...]
    boosts: tuple[tuple[str, str, float], ...]
    add_filters: dict
    replace_query: str
    redirect_url: str
    compiled: re.Pattern | None = None

    @classmethod
    def from_model(cls, rule) -> Rule:
        compiled = None
        if rule.match == "pattern":
            compiled = re.compile(rule.pattern, re.IGNORECASE)
        return cls(
            id=rule.pk,
            name=rule.name,
            match=rule.match,
            pattern=normalize_query(rule.pattern) if rule.match != "pattern" else rule.pattern,
            category=rule.category.strip("/ "),
            filter_present=dict(rule.filter_present or {}),
            starts_at=rule.starts_at,
            ends_at=rule.ends_at,
            pins=tuple((pin["sku"], int(pin.get("position", 1))) for pin in rule.pins or []),
            hides=tuple(rule.hides or ()),
            boosts=tuple(
                (boost["attribute"], str(boost.get("value", "")), float(boost.get("weight", 1)))
                for boost in rule.boosts or []
            ),
            add_filters=dict(rule.add_filters or {}),
            replace_query=rule.replace_query,
            redirect_url=rule.redirect_url,
            compiled=compiled,
        )

    def in_force(self, now: datetime) -> bool:
        return (self.starts_at is None or self.starts_at <= now) and (self.ends_at is None or now < self.ends_at)

    def applies(self, query: str, filters: Filters) -> bool:
        """Whether this rule's conditions hold for ``query`` (normalised) under ``filters``."""
        if self.match == "equals" and query != self.pattern:
            return False
        if self.match == "contains" and f" {self.pattern} " not in f" {query} ":
            return False
        if self.match == "pattern" and (self.compiled is None or not self.compiled.search(query)):
            return False
        if self.category and not (filters.category == self.category
                                  or filters.category.startswith(self.category + "/")):  # fmt: skip
            return False
        present = _present_filters(filters)
        for name, value in self.filter_present.items():
            values = present.get(name)
            if not values or (value not in ("", None) and str(value).lower() not in values):
                return False
        return True


def _present_filters(filters: Filters) -> dict[str, set[str]]:
    """Filter name -> its values (lower case) in ``filters``."""
    present: dict[str, set[str]] = {}
    for name, value in filters.as_dict().items():
        if name == "attributes":
            for attribute, attribute_value in value:
                present.setdefault(attribute, set()).add(str(attribute_value).lower())
        elif name != "exclude_skus":
            present.setdefault(name, set()).add(str(value).lower())
    return present


def rules_load() -> tuple[Rule, ...]:
    """Every enabled rule, in the order rules apply; one whose pattern no longer compiles is skipped."""
    from .models import QueryRule

    rules = []
    for rule in QueryRule.objects.filter(enabled=True).order_by("-priority", "id"):
        try:
            rules.append(Rule.from_model(rule))
        except (re.error, KeyError, TypeError, ValueError):
            continue
    return tuple(rules)


def rules_with_preview(rules: tuple[Rule, ...], rule_id: int) -> tuple[Rule, ...]:
    """``rules`` with rule ``rule_id`` in force whatever its enabled flag and time window say (the playground
    previews a rule before it goes live), in its place by priority."""
    from .models import QueryRule

    preview = QueryRule.objects.filter(pk=rule_id).first()
    if preview is None:
        return rules
    try:
        previewed = replace(Rule.from_model(preview), starts_at=None, ends_at=None)
    except (re.error, KeyError, TypeError, ValueError):
        return rules
    ordered = [rule for rule in rules if rule.id != rule_id] + [previewed]
    priority = {rule.id: rule.priority for rule in QueryRule.objects.filter(pk__in=[r.id for r in ordered])}
    return tuple(sorted(ordered, key=lambda rule: (-priority.get(rule.id, 0), rule.id)))


@dataclass
class RulesPlan:
    """What the rules in force decided for one search (``rules_plan``)."""

    text: str
    filters: Filters
    applied: list[Rule] = field(default_factory=list)
    redirect_url: str = ""
    pins: list[tuple[str, int]] = field(default_factory=list)  # (sku, position from 1), first rule's position wins
    boosts: list[tuple[str, str, float]] = field(default_factory=list)

    def explain(self) -> list[dict]:
        return [{"id": rule.id, "name": rule.name} for rule in self.applied]


def rules_plan(rules: tuple[Rule, ...], text: str, filters: Filters, *, now: datetime | None = None) -> RulesPlan:
    """The rules that apply to a search of ``text`` under ``filters``, and what they change of it."""
    now = now or timezone.now()
    plan = RulesPlan(text=text, filters=filters)
    query = normalize_query(text)
    hidden: set[str] = set()
    pinned: set[str] = set()
    for rule in rules:
        if not rule.in_force(now) or not rule.applies(query, filters):
            continue
        plan.applied.append(rule)
        if rule.replace_query and plan.text == text:
            plan.text = rule.replace_query
        if rule.redirect_url and not plan.redirect_url:
            plan.redirect_url = rule.redirect_url
        if rule.add_filters:
            plan.filters = _narrowed(plan.filters, rule.add_filters)
        hidden.update(rule.hides)
        for sku, position in rule.pins:
            if sku not in pinned:
                pinned.add(sku)
                plan.pins.append((sku, max(1, position)))
        plan.boosts += rule.boosts
    plan.pins = [(sku, position) for sku, position in plan.pins if sku not in hidden]
    if hidden:
        plan.filters = replace(plan.filters, exclude_skus=tuple(sorted({*plan.filters.exclude_skus, *hidden})))
    return plan


def _narrowed(filters: Filters, added: dict) -> Filters:
    """``filters`` with a rule's filters added where the search sets none of its own (a rule only narrows)."""
    extra = Filters.from_params(added)
    return filters.held_to(
        Filters(
            category=extra.category if not filters.category else "",
            brand=extra.brand if not filters.brand else "",
            price_min=extra.price_min,
            price_max=extra.price_max,
            in_stock=extra.in_stock if filters.in_stock is None else None,
            rating_min=extra.rating_min,
            attributes=tuple(a for a in extra.attributes if a[0] not in {name for name, _ in filters.attributes}),
        )
    )


def boost_sql(plan: RulesPlan) -> tuple[str, list]:
    """(SQL over ``catalog_product p``, params): the sum of the weights of the boosts (and buries) a product
    matches; a boost is a filter (``brand``, ``in_stock``, any attribute, product or variant). ("", []) without."""
    parts, params = [], []
    for attribute, value, weight in plan.boosts:
        if attribute == "in_stock":
            condition = Filters(in_stock=value.lower() in ("1", "true", "yes"))
        else:
            condition = Filters.from_params({attribute: value})
        where, where_params = filters_sql(condition)
        parts.append(f"(CASE WHEN {where} THEN %s ELSE 0 END)")
        params += [*where_params, weight]
    return " + ".join(parts), params


def boost_tiers(plan: RulesPlan, product_ids: list[int]) -> dict[int, float]:
    """Product id -> its boost tier (``boost_sql``) among ``product_ids``, where not 0: one statement."""
    if not plan.boosts or not product_ids:
        return {}
    tier, params = boost_sql(plan)
    sql = f"SELECT p.id, {tier} FROM catalog_product p WHERE p.id = ANY(%s)"
    with read_connection().cursor() as cursor:
        cursor.execute(sql, params + [list(product_ids)])
        return {product_id: float(tier) for product_id, tier in cursor.fetchall() if tier}


def pinned_products(plan: RulesPlan, filters: Filters) -> list[tuple[int, str, int]]:
    """(product id, sku, position) of the plan's pins that ``filters`` admit (all the search's filters but the
    exclusion of the pins themselves), by position."""
    if not plan.pins:
        return []
    where, params = filters_sql(filters)
    with read_connection().cursor() as cursor:
        cursor.execute(
            f"SELECT p.id, p.sku FROM catalog_product p WHERE {where} AND p.sku = ANY(%s)",
            params + [[sku for sku, _ in plan.pins]],
        )
        found = {sku: product_id for product_id, sku in cursor.fetchall()}
    return sorted(
        ((found[sku], sku, position) for sku, position in plan.pins if sku in found), key=lambda pin: (pin[2], pin[1])
    )


def page_with_pins(
    pins: list[tuple[int, str, int]], rest: Callable[[int, int], list[int]], offset: int, limit: int, total: int
) -> list[int]:
    """One page of a ranking of ``total`` products (pins included) where the pinned products hold their
    positions (a position beyond the end becomes the last ones) and ``rest(offset, limit)`` (the ranking without
    them) fills the others in order."""
    positions: dict[int, int] = {}
    for product_id, _sku, position in pins:
        at = min(position, total) - 1
        while at in positions and at < total - 1:  # two pins at one position: the next one takes the next free
            at += 1
        if at in positions:  # none free after it: the last free one before it
            at = max(free for free in range(total) if free not in positions)
        positions[at] = product_id
    before = sum(1 for at in positions if at < offset)
    inside = sum(1 for at in positions if offset <= at < offset + limit)
    window = iter(rest(offset - before, limit - inside))
    page = []
    for at in range(offset, min(offset + limit, total)):
        if at in positions:
            page.append(positions[at])
        else:
            product_id = next(window, None)
            if product_id is not None:
                page.append(product_id)
    return page
