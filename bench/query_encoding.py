"""A photo search's query encoding: one photo through the image network, eager against traced and frozen.

    python bench/query_encoding.py [--model efficientnet-lite0] [--rounds 3]

On luma-dev's evaluation photos (withheld views), one thread (a web process's ``SEARCH_TORCH_THREADS``), each photo
preprocessed and encoded alone, alternating by round between the eager network (what a batch of photos runs) and
the TorchScript graph a query runs (``EfficientNetLiteEncoder._single_graph``: traced once, frozen, optimised for
inference). Prints p50 / p95 per round and the largest difference between the two vectors of a photo.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from _setup import ROOT, django_setup


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="efficientnet-lite0")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--source", type=Path, default=ROOT.parent / "shared" / "datasets" / "luma-dev")
    args = parser.parse_args()
    django_setup()
    import numpy as np
    import torch
    from PIL import Image

    from embeddings.neural.encoders import EfficientNetLiteEncoder, _PooledFeatures

    torch.set_num_threads(1)
    encoder = EfficientNetLiteEncoder(args.model, "pad")
    lines = (args.source / "eval" / "photo_queries.jsonl").read_text().splitlines()
    photos = [Image.open(args.source / json.loads(line)["image"]).convert("RGB") for line in lines if line.strip()]

    def eager(photo):
        batch = torch.stack([encoder.preprocess(photo)]).contiguous(memory_format=torch.channels_last)
        with torch.inference_mode():
            return torch.nn.functional.normalize(_PooledFeatures(encoder.model)(batch), dim=1).numpy()[0]

    def traced(photo):
        return encoder.encode_images([photo])[0]

    traced(photos[0])  # traced here, before the timings
    difference = max(float(np.abs(eager(photo) - traced(photo)).max()) for photo in photos[:10])
    print(f"{args.model}, {len(photos)} photos, one thread; largest difference of a vector: {difference:.1e}")
    for round_ in range(args.rounds):
        for name, encode in (("eager", eager), ("traced", traced)):
            times = []
            for photo in photos:
                started = time.perf_counter()
                encode(photo)
                times.append((time.perf_counter() - started) * 1000)
            times.sort()
            p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
            print(f"  round {round_ + 1} {name:<7} p50 {times[len(times) // 2]:6.1f} ms  p95 {p95:6.1f} ms")


if __name__ == "__main__":
    main()
