"""The search playground's read (admin): one search ranked with the settings' fusion and with an override for
this query only, side by side, so a merchandiser sees what a weight change would move."""

from __future__ import annotations

from dataclasses import dataclass, replace

from django.conf import settings

from embeddings.models import EmbeddingGeneration

from .ranking import FusionConfig
from .selectors import search_products
from .types import SearchQuery

# Both rankings are read this deep, so a product's rank under the other fusion is known for the shown ones.
COMPARE_DEPTH = 100


@dataclass(frozen=True)
class ComparedHit:
    product: dict  # sku, name, price, photo_url, ... (search.cards.product_card)
    rank: int  # under the override (or the default when there is none)
    score: float
    default_rank: int | None  # None: beyond COMPARE_DEPTH with the default fusion
    default_score: float | None
    signals: dict[str, tuple[int, float]]  # signal -> (rank, raw score)

    @property
    def moved(self) -> int | None:
        """Places gained with the override (positive: up), None when it was not in the default ranking."""
        return None if self.default_rank is None else self.default_rank - self.rank


@dataclass(frozen=True)
class Comparison:
    total: int
    corrected_query: str
    hits: list[ComparedHit]
    default_fusion: FusionConfig
    fusion: FusionConfig | None  # the override, if any
    dropped: list[dict]  # products in the default top ``show`` that the override pushes out of it


def search_compare(
    *, query: SearchQuery, generation: EmbeddingGeneration | None, fusion: FusionConfig | None, show: int = 20
) -> Comparison:
    """Run ``query`` with the default fusion and, if given, with ``fusion``; the first ``show`` results of the
    override with their default rank. 2 searches (4 queries) with an override, 1 without."""
    depth = max(show, min(COMPARE_DEPTH, settings.SEARCH_MAX_PAGE_SIZE))
    default = search_products(replace(query, page=1, page_size=depth, fusion=None), generation)
    tuned = search_products(replace(query, page=1, page_size=depth, fusion=fusion), generation) if fusion else default
    default_rank = {r.product_id: (rank, r.score) for rank, r in enumerate(default.ranking, start=1)}
    hits = []
    for rank, (ranked, product) in enumerate(zip(tuned.ranking[:show], tuned.products[:show], strict=False), 1):
        before = default_rank.get(ranked.product_id)
        hits.append(ComparedHit(
            product=product, rank=rank, score=ranked.score, default_rank=before[0] if before else None,
            default_score=before[1] if before else None, signals=ranked.signals,
        ))  # fmt: skip
    shown = {hit.product["id"] for hit in hits}
    dropped = [p for p in default.products[:show] if p["id"] not in shown]
    return Comparison(
        total=tuned.total,
        corrected_query=tuned.corrected_query,
        hits=hits,
        default_fusion=FusionConfig.from_settings(),
        fusion=fusion,
        dropped=dropped,
    )


@dataclass(frozen=True)
class RulesComparison:
    """One search as shoppers would see it without the shop's rules and synonyms, and with them (a previewed rule
    included), side by side."""

    before: list[dict]  # products, best first
    after: list[dict]
    before_total: int
    after_total: int
    rules: list[dict]  # the rules that applied ({"id", "name"})
    synonyms: list[dict]  # the synonyms that applied ({"term", "added"})
    redirect_url: str
    pinned: set[str]  # SKUs pinned in ``after``


def rules_compare(
    *, query: SearchQuery, generation: EmbeddingGeneration | None, preview_rule: int | None = None, show: int = 20
) -> RulesComparison:
    """``query`` without and with the merchandisers' levers (2 searches)."""
    before = search_products(replace(query, page=1, page_size=show, merchandising=False, fusion=None), generation)
    after = search_products(
        replace(query, page=1, page_size=show, merchandising=True, preview_rule=preview_rule, fusion=None), generation
    )
    pinned = {
        product["sku"]
        for ranked, product in zip(after.ranking, after.products, strict=False)
        if "pinned" in ranked.signals
    }
    return RulesComparison(
        before=before.products,
        after=after.products,
        before_total=before.total,
        after_total=after.total,
        rules=after.rules,
        synonyms=after.synonyms,
        redirect_url=after.redirect_url,
        pinned=pinned,
    )
