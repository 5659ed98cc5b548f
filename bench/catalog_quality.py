"""Catalog quality report on a catalog with planted errors: precision and recall of the top of each kind's list.

    python bench/catalog_quality.py [--catalog ../shared/datasets/luma-dev] [--seed 2] [--per-kind 10]

Copies the catalog (with its licence files) to a temporary folder and plants errors there, seeded: photos swapped
between products (``--per-kind`` photos, in pairs), colour attributes changed to another colour of the catalog,
products moved to another leaf category, products duplicated under new SKUs (name slightly reworded, photos
re-encoded so that no file is byte-identical). Each planted product takes one error only. The planted copy and
the untouched catalog are each imported into a scratch database and get a generation built with the real encoders
(settings); the report runs on both. Per kind it prints the planted count N, precision and recall of the top N
and top 2N of that kind's ranking, how many planted errors the stored list (findings above the kind's threshold)
holds, and the findings of the planted copy that the untouched catalog has too (its own issues: listed, and
counted apart as "pre-existing" so that precision can be read with and without them). Develop with one seed,
report another: never tune to the seed you report.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

from _setup import ROOT, django_setup, scratch_database

# Reworded names of duplicates: how a second listing of the same product is typically written.
REWORDINGS = ("{name} - New", "New {name}", "{name} (2nd listing)", "The {name}", "{name}, Classic")


@dataclass
class Planted:
    """What was planted, as the report would name it."""

    photos: set[tuple[str, str]] = field(default_factory=set)  # (sku, photo source) of a photo of another product
    colours: dict[str, str] = field(default_factory=dict)  # sku -> the wrong colour it now states
    categories: dict[str, tuple[str, str]] = field(default_factory=dict)  # sku -> (true, wrong) primary category
    duplicates: set[frozenset[str]] = field(default_factory=set)  # {original sku, duplicate sku}

    def count(self, kind: str) -> int:
        return len(self.keys(kind))

    def keys(self, kind: str) -> set:
        return {
            "photo_of_other_product": self.photos,
            "colour_contradicted": set(self.colours.items()),
            "wrong_category": set(self.categories),
            "near_duplicate": self.duplicates,
        }[kind]

    def hit(self, finding) -> bool:
        keys = self.keys(finding.kind)
        return finding_key(finding) in keys


def finding_key(finding):
    if finding.kind == "photo_of_other_product":
        return (finding.sku, finding.photo)
    if finding.kind == "near_duplicate":
        return frozenset((finding.sku, finding.other_sku))
    if finding.kind == "colour_contradicted":
        return (finding.sku, finding.details["stated"])
    return finding.sku


def _colours(record: dict) -> list[str]:
    value = (record.get("attributes") or {}).get("color")
    return value if isinstance(value, list) else [value] if value else []


def _reencode(source: Path, target: Path) -> None:
    from PIL import Image

    with Image.open(source) as image:
        image = image.convert("RGB")
        width, height = image.size
        image = image.resize((int(width * 0.92), int(height * 0.92)))
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=83)
    target.write_bytes(buffer.getvalue())


def plant_errors(source: Path, target: Path, *, seed: int, per_kind: int) -> Planted:
    """Copy the catalog at ``source`` to ``target`` with ``per_kind`` errors of each kind planted (seeded)."""
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("eval"))
    records = [json.loads(line) for line in (source / "products.jsonl").read_text().splitlines() if line.strip()]
    rng = random.Random(seed)
    planted = Planted()
    # A photo file listed by several products (luma's stability balls in three sizes) would make a swap ambiguous.
    owners: dict[str, set[str]] = {}
    for record in records:
        for image in record.get("images") or []:
            owners.setdefault(image, set()).add(record["sku"])
    free = [r for r in records if r.get("images") and all(len(owners[i]) == 1 for i in r["images"])]
    rng.shuffle(free)
    taken: set[str] = set()

    def take(predicate, count: int) -> list[dict]:
        chosen = [r for r in free if r["sku"] not in taken and predicate(r)][:count]
        taken.update(r["sku"] for r in chosen)
        return chosen

    def replace_photo(record: dict, old: str, new: str) -> None:
        record["images"] = [new if image == old else image for image in record["images"]]
        for variant in record.get("variants") or []:
            variant["images"] = [new if image == old else image for image in variant.get("images") or []]

    # Photos swapped between two products (each pair: two photos on the wrong product).
    swapped = take(lambda r: True, per_kind - per_kind % 2)
    for first, second in zip(swapped[::2], swapped[1::2], strict=True):
        a, b = rng.choice(first["images"]), rng.choice(second["images"])
        replace_photo(first, a, b)
        replace_photo(second, b, a)
        planted.photos |= {(first["sku"], b), (second["sku"], a)}

    # A colour the product's photos show, stated as another colour of the catalog (variants too).
    palette = sorted({colour for record in records for colour in _colours(record)})
    for record in take(lambda r: bool(_colours(r)), per_kind):
        colours = _colours(record)
        shown = [c for c in colours if not record.get("variants") or any(
            v.get("images") and v.get("attributes", {}).get("color") == c for v in record["variants"])]  # fmt: skip
        old = rng.choice(shown or colours)
        new = rng.choice([c for c in palette if c not in colours])
        record["attributes"]["color"] = [new if c == old else c for c in colours] if len(colours) > 1 else new
        for variant in record.get("variants") or []:
            if variant.get("attributes", {}).get("color") == old:
                variant["attributes"]["color"] = new
        planted.colours[record["sku"]] = new

    # Another product's primary category as the primary one (not a secondary "Collections/..." or "Promotions/...").
    leaves = sorted({r["categories"][0] for r in records if r.get("categories")})
    for record in take(lambda r: bool(r.get("categories")), per_kind):
        true = record["categories"][0]
        wrong = rng.choice([leaf for leaf in leaves if leaf != true])
        record["categories"] = [wrong] + [c for c in record["categories"][1:] if c != wrong]
        planted.categories[record["sku"]] = (true, wrong)

    # The same product again under another SKU: name reworded, photos re-encoded.
    duplicates = []
    for record in take(lambda r: True, per_kind):
        copy = json.loads(json.dumps(record))
        copy["sku"] = f"{record['sku']}-X{seed}"
        copy["name"] = rng.choice(REWORDINGS).format(name=record["name"])
        renamed = {}
        for image in record["images"]:
            new = image.rsplit(".", 1)[0] + f"-copy{seed}.jpg"
            _reencode(source / image, target / new)
            renamed[image] = new
        copy["images"] = [renamed[i] for i in copy["images"]]
        for variant in copy.get("variants") or []:
            variant["sku"] = f"{variant['sku']}-X{seed}"
            variant["images"] = [renamed[i] for i in variant.get("images") or []]
        duplicates.append(copy)
        planted.duplicates.add(frozenset((record["sku"], copy["sku"])))

    lines = [json.dumps(record) for record in records + duplicates]
    (target / "products.jsonl").write_text("\n".join(lines) + "\n")
    return planted


def measure(planted: Planted, findings_by_kind: dict[str, list], pre_existing: set) -> list[str]:
    """Per kind: precision and recall of the top N and 2N of the ranking (N planted), with and without the
    findings the untouched catalog has too."""
    lines = []
    for kind, ranking in findings_by_kind.items():
        n = planted.count(kind)
        flagged = [f for f in ranking if f.flagged]
        parts = [f"{kind:<24} planted {n:>3}"]
        for top in (n, 2 * n):
            head = ranking[:top]
            hits = sum(planted.hit(f) for f in head)
            old = sum(finding_key(f) in pre_existing for f in head if not planted.hit(f))
            clean = top - old
            parts.append(
                f"top {top:>2}: P {hits / top:.2f} (without pre-existing {hits / max(clean, 1):.2f}) R {hits / n:.2f}"
            )
        hits = sum(planted.hit(f) for f in flagged)
        parts.append(f"listed {len(flagged):>3} (planted {hits}, pre-existing "
                     f"{sum(finding_key(f) in pre_existing for f in flagged if not planted.hit(f))})")  # fmt: skip
        lines.append(" | ".join(parts))
    return lines


def build(catalog: Path) -> float:
    from catalog.services import catalog_import
    from embeddings.models import Job
    from embeddings.services.operations import job_run, job_start

    started = time.monotonic()
    report = catalog_import(path=catalog)
    print(f"  import: {report.summary()}")
    job = job_start(kind=Job.Kind.BUILD, options={"train": True}, run_async=False)
    job_run(job=job)
    job.refresh_from_db()
    assert job.state == Job.State.DONE, job.error
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--catalog", type=Path, default=ROOT.parent / "shared" / "datasets" / "luma-dev")
    parser.add_argument("--seed", type=int, default=2)
    parser.add_argument("--per-kind", type=int, default=10)
    parser.add_argument("--show", type=int, default=5, help="unplanted findings shown per kind")
    args = parser.parse_args()
    django_setup()

    def run_report() -> tuple[dict[str, list], float]:
        from catalog.models import Product, ProductImage
        from embeddings.selectors import active_generation
        from quality.checks import KINDS
        from quality.services import catalog_findings_compute

        result = catalog_findings_compute(generation=active_generation())
        skus = dict(Product.objects.values_list("id", "sku"))
        sources = dict(ProductImage.objects.values_list("id", "source"))
        found = {kind: [] for kind in KINDS}
        for f in result.findings:
            found[f.kind].append(SimpleNamespace(
                kind=f.kind, sku=skus[f.product_id], photo=sources.get(f.image_id), score=f.score,
                other_sku=skus.get(f.other_product_id), evidence=f.evidence, details=f.details, flagged=f.flagged,
            ))  # fmt: skip
        return found, result.seconds

    with tempfile.TemporaryDirectory(prefix="catalog-quality-") as folder:
        copy = Path(folder) / f"{args.catalog.name}-planted"
        planted = plant_errors(args.catalog, copy, seed=args.seed, per_kind=args.per_kind)
        print(f"planted copy of {args.catalog.name} (seed {args.seed}) in {copy}")
        with scratch_database("catalog_quality_clean"):
            seconds = build(args.catalog)
            print(f"  untouched catalog: import + train + build {seconds:.1f} s")
            clean, clean_seconds = run_report()
            pre_existing = {finding_key(f) for kind in clean.values() for f in kind if f.flagged}
            print(f"  report: {clean_seconds:.2f} s, {len(pre_existing)} findings listed")
            for kind, ranking in clean.items():
                listed = [f for f in ranking if f.flagged]
                print(f"  {kind}: {len(listed)} listed on the untouched catalog")
                for finding in listed[: args.show]:
                    print(f"    {finding.score:.2f} {finding.sku}: {finding.evidence}")
        with scratch_database("catalog_quality_planted"):
            seconds = build(copy)
            print(f"  planted copy: import + train + build {seconds:.1f} s")
            found, found_seconds = run_report()
            print(f"  report: {found_seconds:.2f} s")
    print()
    for line in measure(planted, found, pre_existing):
        print(line)
    print()
    for kind, ranking in found.items():
        n = planted.count(kind)
        missed = [f for f in ranking[: 2 * n] if not planted.hit(f)]
        print(f"{kind}: unplanted among the top {2 * n}:")
        for finding in missed[: args.show]:
            tag = "pre-existing" if finding_key(finding) in pre_existing else "new"
            print(f"  {finding.score:.3f} {tag:<12} {finding.sku}: {finding.evidence}")
        found_keys = {finding_key(f) for f in ranking[: 2 * n]}
        for key in sorted(map(str, planted.keys(kind) - found_keys)):
            rank = next((i for i, f in enumerate(ranking) if str(finding_key(f)) == key), None)
            print(f"  missed {key} (rank {None if rank is None else rank + 1})")


if __name__ == "__main__":
    main()
