"""The catalog quality check: run the four checks on a generation (``checks``), with held-out models
(``heldout``), and store what it lists as the generation's report.

Cost on luma-dev (116 products, 298 photos, 2 cores): about 15 s, almost all of it training the held-out heads.
At 50,000 products with 150,000 photos (estimated, not measured): 10 heads on at most 20,000 photos each, some
15 minutes; every photo against every product's text, about 10^12 multiply-adds in chunks (minutes); near-duplicate
candidates through the HNSW index, one scan per product (about 2 minutes). Hence a background task, after each
activation and nightly, never a page view.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np
from django.db import transaction

from catalog.models import Product, ProductImage
from embeddings.models import EmbeddingGeneration
from embeddings.services.embedding import generation_models

from . import checks
from .heldout import COLOUR_READER_BINS, heldout_project
from .models import Dismissal, Finding, QualityReport
from .selectors import catalog_vectors, duplicate_candidates, photo_colour_histograms

logger = logging.getLogger(__name__)


@dataclass
class CheckResult:
    findings: list[Finding]  # unsaved, worst first; ``flagged`` (listed) set on each
    products: int
    photos: int
    notes: list[str]
    seconds: float
    timings: dict[str, float]  # seconds per phase: read, held-out models, duplicate candidates, checks


def catalog_findings_compute(*, generation: EmbeddingGeneration) -> CheckResult:
    """Every finding with a positive score on ``generation``'s vectors, worst first, as unsaved ``Finding`` rows
    (the listed ones have ``flagged`` True), but those a person marked as fine (``dismissed_drop``). Reads the
    catalog; writes nothing."""
    started = time.monotonic()
    timings = {}
    vectors = catalog_vectors(generation)
    timings["read vectors"] = time.monotonic() - started
    notes = []
    held = None
    phase = time.monotonic()
    if generation.text_only:
        notes.append("text-only generation: no photo or colour checks, categories by text alone")
    else:
        vectors.photo_colour = photo_colour_histograms(vectors.photo_ids, COLOUR_READER_BINS)
        timings["photo colours (pixels)"] = time.monotonic() - phase
        phase = time.monotonic()
        encoders, _head = generation_models(generation)
        held = heldout_project(vectors=vectors, encode_texts=encoders.text.encode_texts)
        if held is None:
            notes.append(f"{len(vectors.photo_ids)} photos: too few to train held-out heads; no photo or colour "
                         "checks, categories by text alone")  # fmt: skip
        elif len(held.palette) < 2:
            notes.append("fewer than two colours with enough photos stating them: no colour check")
    timings["held-out heads and colour reader"] = time.monotonic() - phase
    phase = time.monotonic()
    pairs = None
    if len(vectors.skus) > checks.EXACT_PAIRS_MAX:
        index = {product_id: i for i, product_id in enumerate(vectors.product_ids)}
        candidates = [(index[a], index[b]) for a, b in duplicate_candidates(generation) if a in index and b in index]
        pairs = np.array(candidates, dtype=int).reshape(-1, 2)
        timings["near-duplicate candidates (HNSW)"] = time.monotonic() - phase
        phase = time.monotonic()
    found = checks.findings_compute(vectors, held, pairs)
    timings["checks"] = time.monotonic() - phase
    versions = dict(Product.objects.filter(id__in=vectors.product_ids).values_list("id", "content_version"))
    findings = []
    for item in found:
        product_id = vectors.product_ids[item.product]
        finding = Finding(
            kind=item.kind,
            product_id=product_id,
            image_id=None if item.photo is None else vectors.photo_ids[item.photo],
            other_product_id=None if item.other_product is None else vectors.product_ids[item.other_product],
            score=round(item.score, 4),
            margin=round(item.margin, 4),
            evidence=item.evidence,
            details=item.details,
            content_version=versions.get(product_id, 0),
        )
        finding.flagged = item.flagged
        findings.append(finding)
    findings, dismissed = dismissed_drop(findings)
    if dismissed:
        notes.append(f"{dismissed} finding{'s' if dismissed != 1 else ''} marked as fine not listed")
    return CheckResult(
        findings=findings,
        products=len(vectors.skus),
        photos=len(vectors.photo_ids),
        notes=notes,
        seconds=time.monotonic() - started,
        timings=timings,
    )


def finding_key(finding: Finding, hashes: dict[int, str] | None = None, skus: dict[int, str] | None = None) -> str:
    """What ``finding`` is about, the same in every check while the product stays as it is (a dismissal's key): the
    stated colour, the photo's content hash, the category the product is filed under, the other product's SKU.
    ``hashes`` (photo id -> content hash) and ``skus`` (product id -> SKU) spare the finding's own relations."""
    if finding.kind == Finding.Kind.COLOUR:
        return str(finding.details.get("stated", ""))
    if finding.kind == Finding.Kind.CATEGORY:
        return str(finding.details.get("category") or "")
    if finding.kind == Finding.Kind.PHOTO:
        digest = hashes.get(finding.image_id) if hashes is not None else finding.image.content_hash
        return digest or f"photo {finding.image_id}"
    return skus.get(finding.other_product_id, "") if skus is not None else finding.other_product.sku


def dismissed_drop(findings: list[Finding]) -> tuple[list[Finding], int]:
    """``findings`` without those a person marked as fine (a ``Dismissal`` of the same product, kind and key, made
    while the product was at the version the finding was judged on), and how many were dropped. Every dismissal is
    read: there are as many as people made, not as many as products."""
    marked = {(d.product_id, d.kind, d.key): d.content_version for d in Dismissal.objects.all()}
    # Only the findings of products with a mark are looked at (their photos' hashes, their twins' SKUs).
    products = {product for product, _kind, _key in marked}
    candidates = [f for f in findings if f.product_id in products]
    if not candidates:
        return findings, 0
    hashes = dict(ProductImage.objects.filter(id__in={f.image_id for f in candidates if f.image_id}).values_list(
        "id", "content_hash"))  # fmt: skip
    skus = dict(Product.objects.filter(id__in={f.other_product_id for f in candidates if f.other_product_id})
                .values_list("id", "sku"))  # fmt: skip
    kept = [f for f in findings if f.product_id not in products
            or marked.get((f.product_id, f.kind, finding_key(f, hashes, skus))) != f.content_version]  # fmt: skip
    return kept, len(findings) - len(kept)


@transaction.atomic
def dismissal_create(*, finding: Finding, by: str = "") -> Dismissal:
    """Mark ``finding`` as fine: later checks do not list it while its product stays at the version it was judged
    on, and it leaves the current report now."""
    dismissal, _created = Dismissal.objects.update_or_create(
        product_id=finding.product_id,
        kind=finding.kind,
        key=finding_key(finding),
        defaults={"content_version": finding.content_version, "evidence": finding.evidence, "by": by},
    )
    finding.delete()
    return dismissal


def dismissal_restore(*, dismissal_id: int) -> bool:
    """Take back a "fine": the next check lists the finding again if it still stands. False: no such dismissal."""
    deleted, _by_model = Dismissal.objects.filter(pk=dismissal_id).delete()
    return bool(deleted)


def quality_report_build(*, generation: EmbeddingGeneration) -> QualityReport:
    """Run the check on ``generation`` and store its listed findings as the generation's report (replacing the
    previous one in one transaction)."""
    result = catalog_findings_compute(generation=generation)
    listed = [finding for finding in result.findings if finding.flagged]
    with transaction.atomic():
        # Products or photos deleted while the check ran: their findings go with them.
        products = {f.product_id for f in listed} | {f.other_product_id for f in listed if f.other_product_id}
        alive = set(Product.objects.filter(id__in=products).values_list("id", flat=True))
        photos = set(ProductImage.objects.filter(id__in={f.image_id for f in listed if f.image_id}).values_list(
            "id", flat=True))  # fmt: skip
        listed = [f for f in listed if f.product_id in alive and f.other_product_id in alive | {None}
                  and f.image_id in photos | {None}]  # fmt: skip
        QualityReport.objects.filter(generation=generation).delete()
        report = QualityReport.objects.create(
            generation=generation,
            products=result.products,
            photos=result.photos,
            seconds=round(result.seconds, 2),
            notes=result.notes,
        )
        for finding in listed:
            finding.report = report
        Finding.objects.bulk_create(listed)
    logger.info(
        "catalog quality of generation %s: %d findings listed (%d products, %d photos, %.1f s)",
        generation.pk, len(listed), result.products, result.photos, result.seconds,
    )  # fmt: skip
    return report
