"""Photo search levers on a catalog's withheld photo queries: which one raises R@1 / MRR, and at what cost.

    python bench/photo_levers.py [--catalog ../shared/datasets/luma-dev]

Imports the catalog into a scratch database, trains a head and builds a generation with the network's image
features alone (EMBEDDING_IMAGE_COLOUR=0), then scores each lever photo to photo (best photo per product unless
said) on eval/photo_queries.jsonl, and the chosen ones on a second query shape: the catalog's own "_alt1" views
withheld in turn. The levers: flip test-time augmentation, soft-maximum pooling, the head's joint space, a head
also trained photo to photo (with and without augmented photos), the colour appearance, and both together. The
README's "Photo search" table comes from this command.
"""

import argparse
import json
import random
import time
from pathlib import Path

import numpy as np
from _setup import ROOT, django_setup, scratch_database

AUGMENTED_VIEWS = 2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--catalog", type=Path, default=ROOT.parent / "shared" / "datasets" / "luma-dev")
    args = parser.parse_args()
    django_setup()
    import torch
    from django.test.utils import override_settings
    from PIL import Image, ImageEnhance, ImageOps
    from torch.nn import functional as F  # noqa: N812

    from catalog.models import Product, ProductImage
    from catalog.services import catalog_import
    from embeddings.models import Job
    from embeddings.neural.encoders import colour_appearance
    from embeddings.neural.head import AlignmentHead, HeadConfig, _loss
    from embeddings.selectors import product_contents
    from embeddings.services.embedding import generation_models, read_photo
    from embeddings.services.jobs import JobProgress
    from embeddings.services.operations import job_run, job_start
    from embeddings.services.training import training_data_collect

    with scratch_database("photo_levers"), override_settings(EMBEDDING_IMAGE_COLOUR=0.0):
        catalog_import(path=args.catalog)
        job = job_start(kind=Job.Kind.BUILD, options={"train": True}, run_async=False)
        job_run(job=job)
        job.refresh_from_db()
        encoders, head = generation_models(job.generation)
        data = training_data_collect(encoders, JobProgress())
        ids = list(Product.objects.order_by("id").values_list("id", flat=True))
        contents = [content for content, _version in product_contents(ids) if content.photos]
        skus = [content.sku for content in contents]
        photos = [read_photo(photo.file, encoders) for content in contents for photo in content.photos]
        sources = dict(ProductImage.objects.values_list("id", "source"))
        photo_sources = [sources[photo.image_id] for content in contents for photo in content.photos]
        queries = [json.loads(line) for line in (args.catalog / "eval" / "photo_queries.jsonl").open()]
        asked = [Image.open(args.catalog / query["image"]).convert("RGB") for query in queries]

    groups, features = np.asarray(data.image_groups), np.asarray(data.image_features, dtype=np.float32)
    assert len(photos) == len(features), "photos and features out of step"
    truth = np.array([skus.index(next(iter(query["relevant"]))) for query in queries])
    started = time.perf_counter()
    queried = encoders.image.encode_images(asked)
    network_ms = (time.perf_counter() - started) * 1000 / len(asked)
    flipped = encoders.image.encode_images([ImageOps.mirror(photo) for photo in asked])
    started = time.perf_counter()
    colours, asked_colours = (
        np.stack([colour_appearance(p) for p in photos]),
        np.stack([colour_appearance(p) for p in asked]),
    )
    colour_ms = (time.perf_counter() - started) * 1000 / (len(photos) + len(asked))

    def norm(rows):
        return rows / np.linalg.norm(rows, axis=-1, keepdims=True)

    def pooled(similarity, catalog_groups, how="max"):
        scores = np.full((similarity.shape[0], len(skus)), -9.0)
        for group in np.unique(catalog_groups):
            columns = similarity[:, catalog_groups == group]
            scores[:, group] = columns.max(1) if how == "max" else np.log(np.exp(columns * 20).sum(1)) / 20
        return scores

    def figures(scores, wanted):
        ranks = np.array(
            [int(np.where(np.argsort(-row) == want)[0][0]) + 1 for row, want in zip(scores, wanted, strict=True)]
        )
        return f"R@1 {np.mean(ranks == 1):.3f}  R@10 {np.mean(ranks <= 10):.3f}  MRR {np.mean(1 / ranks):.3f}"

    def project(model, rows):
        return model.project(np.asarray(rows, dtype=np.float32), "image")

    rng = random.Random(7)

    def augment(photo):
        width, height = photo.size
        scale = rng.uniform(0.65, 1.0)
        crop_w, crop_h = int(width * scale), int(height * scale)
        left, top = rng.randint(0, width - crop_w), rng.randint(0, height - crop_h)
        out = photo.crop((left, top, left + crop_w, top + crop_h))
        out = ImageOps.mirror(out) if rng.random() < 0.5 else out
        out = ImageEnhance.Brightness(out).enhance(rng.uniform(0.85, 1.15))
        return ImageEnhance.Contrast(out).enhance(rng.uniform(0.85, 1.15))

    augmented = np.stack(
        [encoders.image.encode_images([augment(p) for p in photos]) for _ in range(AUGMENTED_VIEWS)], 1
    )

    def head_trained_photo_to_photo(weight: float, use_augmented: bool, seed: int = 1234) -> AlignmentHead:
        """The head's training with a photo-to-photo term: other photos (and augmented views) of a product are
        positives for one another."""
        config = HeadConfig()
        torch.manual_seed(seed)
        order_rng = np.random.default_rng(seed)
        count = len(features)
        order = order_rng.permutation(count)
        held = max(2, round(count * config.validation_fraction))
        validation, train = order[:held], order[held:]
        image_rows, views = torch.from_numpy(features), torch.from_numpy(augmented.astype(np.float32))
        text_rows = torch.from_numpy(np.asarray(data.text_features, dtype=np.float32))
        image_groups, text_groups = torch.from_numpy(groups), torch.from_numpy(np.asarray(data.text_groups))
        model = AlignmentHead(
            features.shape[1], text_rows.shape[1], config.joint_dim, config.hidden_dim, config.dropout
        )
        optimizer = torch.optim.AdamW(model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay)

        def photo_loss(index, left, right):
            logits = model.logit_scale.exp().clamp(max=100) * model.forward_image(left) @ model.forward_image(right).T
            same = (image_groups[index][:, None] == image_groups[index][None, :]).float()
            return torch.sum(-F.log_softmax(logits, 1) * same / same.sum(1, keepdim=True), 1).mean()

        def validation_loss() -> float:
            model.eval()
            with torch.no_grad():
                index = torch.from_numpy(validation)
                texts = torch.tensor([data.texts_of_image[i][0] for i in validation])
                loss = _loss(model, image_rows[index], text_rows[texts], image_groups[index], text_groups[texts])
                return float(loss + weight * photo_loss(index, image_rows[index], views[index, 0]))

        best, state, stale = validation_loss(), {k: v.clone() for k, v in model.state_dict().items()}, 0
        for _epoch in range(config.epochs):
            model.train()
            shuffled = train[order_rng.permutation(len(train))]
            for start in range(0, len(shuffled), config.batch_size):
                batch = shuffled[start : start + config.batch_size]
                if len(batch) < 2:
                    continue
                index = torch.from_numpy(batch)
                rows = image_rows[index]
                if use_augmented:
                    pick = torch.from_numpy(order_rng.integers(0, AUGMENTED_VIEWS + 1, len(batch)))
                    rows = torch.where((pick == AUGMENTED_VIEWS)[:, None], rows,
                                       views[index, pick.clamp(max=AUGMENTED_VIEWS - 1)])  # fmt: skip
                texts = torch.tensor([data.texts_of_image[i][order_rng.integers(len(data.texts_of_image[i]))]
                                      for i in batch])  # fmt: skip
                other = views[index, torch.from_numpy(order_rng.integers(0, AUGMENTED_VIEWS, len(batch)))]
                loss = _loss(model, rows, text_rows[texts], image_groups[index], text_groups[texts])
                loss = loss + weight * photo_loss(index, rows, other if use_augmented else image_rows[index])
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
            current = validation_loss()
            if current < best - 1e-4:
                best, stale, state = current, 0, {k: v.clone() for k, v in model.state_dict().items()}
            else:
                stale += 1
            if stale >= config.patience:
                break
        model.load_state_dict(state)
        return model.eval()

    both, asked_both = norm(np.hstack([features, colours])), norm(np.hstack([queried, asked_colours]))
    rows = [
        ("network features (before)", pooled(queried @ features.T, groups)),
        ("+ flip test-time augmentation", pooled(norm(queried + flipped) @ features.T, groups)),
        ("soft-maximum pooling", pooled(queried @ features.T, groups, "lse")),
        ("head's joint space", pooled(project(head, queried) @ project(head, features).T, groups)),
    ]
    for weight, use_augmented in ((1.0, False), (1.0, True), (2.0, True)):
        model = head_trained_photo_to_photo(weight, use_augmented)
        label = f"head also trained photo to photo (weight {weight:g}{', augmented' if use_augmented else ''})"
        rows.append((label, pooled(project(model, queried) @ project(model, features).T, groups)))
    rows += [("colour appearance alone", pooled(asked_colours @ colours.T, groups)),
             ("network + colour appearance", pooled(asked_both @ both.T, groups))]  # fmt: skip
    print(f"{len(queries)} photo queries, {len(features)} catalog photos, {len(skus)} products")
    for label, scores in rows:
        print(f"{label:62s} {figures(scores, truth)}")

    alt = np.array(["alt1" in source for source in photo_sources])
    kept = ~alt
    print(f"\nsecond shape: {int(alt.sum())} '_alt1' views withheld from the catalog in turn")
    for label, catalog in (("network features", features), ("colour appearance alone", colours),
                           ("network + colour appearance", both)):  # fmt: skip
        scores = pooled(catalog[alt] @ catalog[kept].T, groups[kept])
        print(f"{label:62s} {figures(scores, groups[alt])}")
    print(f"\ncost per photo: network {network_ms:.1f} ms, colour appearance {colour_ms:.2f} ms")


if __name__ == "__main__":
    main()
