"""The alignment head: two small projections that map image features and text features into one joint space.

Trained contrastively (symmetric InfoNCE) on the shop's own photo/text pairs: every photo against the texts of
its product. Pairs of the same product count as positives on both sides (soft targets), so that two photos of
one product are not pushed apart. A fixed seed, a held-out validation split of photos and early stopping on the
validation loss make training reproducible and keep it from memorising a small catalog.
"""

from __future__ import annotations

import io
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F  # noqa: N812


@dataclass(frozen=True)
class HeadConfig:
    joint_dim: int = 256
    hidden_dim: int = 0  # 0: linear projections; >0: one hidden layer on the image side
    epochs: int = 400
    patience: int = 25  # epochs without a better validation loss before stopping
    batch_size: int = 128
    learning_rate: float = 2e-3
    weight_decay: float = 0.1
    dropout: float = 0.1
    validation_fraction: float = 0.15
    seed: int = 1234


class AlignmentHead(nn.Module):
    def __init__(
        self,
        image_dim: int,
        text_dim: int,
        joint_dim: int,
        hidden_dim: int = 0,
        dropout: float = 0.0,
        text_only: bool = False,
    ):
        super().__init__()
        self.dims = {"image_dim": image_dim, "text_dim": text_dim, "joint_dim": joint_dim, "hidden_dim": hidden_dim}
        # A text-only head (a catalog with too few photos to learn an alignment from): the joint space is the text
        # encoder's own, and photos have no joint-space vector.
        self.text_only = text_only
        if text_only:
            self.dims["text_only"] = True
        if hidden_dim:
            self.image = nn.Sequential(
                nn.Dropout(dropout), nn.Linear(image_dim, hidden_dim), nn.GELU(), nn.Linear(hidden_dim, joint_dim)
            )
        else:
            self.image = nn.Sequential(nn.Dropout(dropout), nn.Linear(image_dim, joint_dim))
        self.text = nn.Sequential(nn.Dropout(dropout), nn.Linear(text_dim, joint_dim))
        self.logit_scale = nn.Parameter(torch.tensor(math.log(1 / 0.07)))

    @classmethod
    def identity(cls, dim: int) -> AlignmentHead:
        """For encoders that already share a space (CLIP): projections start as the identity."""
        head = cls(dim, dim, dim)
        with torch.no_grad():
            for layer in (head.image[1], head.text[1]):
                layer.weight.copy_(torch.eye(dim))
                layer.bias.zero_()
            head.logit_scale.fill_(math.log(100.0))
        return head.eval()

    @classmethod
    def text_identity(cls, text_dim: int, image_dim: int) -> AlignmentHead:
        """The head of a catalog without enough photos to train one: text features pass through unchanged (the
        joint space is the text encoder's), the image side is unused."""
        head = cls(image_dim, text_dim, text_dim, text_only=True)
        with torch.no_grad():
            head.text[1].weight.copy_(torch.eye(text_dim))
            head.text[1].bias.zero_()
        return head.eval()

    def forward_image(self, features: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.image(features), dim=-1)

    def forward_text(self, features: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.text(features), dim=-1)

    @torch.inference_mode()
    def project(self, features: np.ndarray, side: str) -> np.ndarray:
        """Normalised joint-space rows for image (``side="image"``) or text encoder features."""
        if side == "image" and self.text_only:
            raise ValueError("a text-only head has no image side: photos have no joint-space vector")
        if len(features) == 0:
            return np.zeros((0, self.dims["joint_dim"]), dtype=np.float32)
        self.eval()
        tensor = torch.from_numpy(np.ascontiguousarray(features, dtype=np.float32))
        projected = self.forward_image(tensor) if side == "image" else self.forward_text(tensor)
        return projected.numpy()

    # --- persistence: the head is stored in the database as bytes, beside its generation --------------------

    def to_bytes(self) -> bytes:
        buffer = io.BytesIO()
        torch.save({"dims": self.dims, "state": self.state_dict()}, buffer)
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> AlignmentHead:
        saved = torch.load(io.BytesIO(data), weights_only=True)
        head = cls(**saved["dims"])
        head.load_state_dict(saved["state"])
        return head.eval()


@dataclass
class TrainingData:
    """Encoder features of the catalog's photos and texts, and which texts belong to which photo."""

    image_features: np.ndarray  # (photos, image_dim)
    image_groups: np.ndarray  # (photos,) product index of each photo
    text_features: np.ndarray  # (texts, text_dim)
    text_groups: np.ndarray  # (texts,) product index of each text
    texts_of_image: list[list[int]]  # for each photo, the indices of its texts


@dataclass
class TrainingReport:
    epochs: int = 0
    best_epoch: int = 0
    train_loss: float = 0.0
    validation_loss: float = 0.0
    initial_validation_loss: float = 0.0
    seconds: float = 0.0
    photos: int = 0
    texts: int = 0
    validation_photos: int = 0
    history: list[tuple[int, float, float]] = field(default_factory=list)

    def as_dict(self) -> dict:
        data = asdict(self)
        data["history"] = data["history"][-50:]
        return data


def _loss(head: AlignmentHead, images: torch.Tensor, texts: torch.Tensor, image_groups, text_groups) -> torch.Tensor:
    image_vectors = head.forward_image(images)
    text_vectors = head.forward_text(texts)
    logits = head.logit_scale.exp().clamp(max=100) * image_vectors @ text_vectors.T
    same = (image_groups[:, None] == text_groups[None, :]).float()
    loss_images = torch.sum(-F.log_softmax(logits, dim=1) * same / same.sum(1, keepdim=True), dim=1).mean()
    loss_texts = torch.sum(-F.log_softmax(logits.T, dim=1) * same.T / same.T.sum(1, keepdim=True), dim=1).mean()
    return (loss_images + loss_texts) / 2


def train_head(
    data: TrainingData,
    config: HeadConfig = HeadConfig(),
    *,
    initial: AlignmentHead | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[AlignmentHead, TrainingReport]:
    """Train (or, with ``initial``, fine-tune) a head on ``data``; returns the head of the epoch with the lowest
    validation loss (measured on held-out photos)."""
    started = time.monotonic()
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    photos = len(data.image_features)
    if photos < 4:
        raise ValueError(f"alignment training needs at least 4 photos with texts, the catalog has {photos}")
    order = rng.permutation(photos)
    validation_count = max(2, int(round(photos * config.validation_fraction)))
    validation, train = order[:validation_count], order[validation_count:]

    image_features = torch.from_numpy(np.asarray(data.image_features, dtype=np.float32))
    text_features = torch.from_numpy(np.asarray(data.text_features, dtype=np.float32))
    image_groups = torch.from_numpy(np.asarray(data.image_groups))
    text_groups = torch.from_numpy(np.asarray(data.text_groups))

    def run_epoch(head: AlignmentHead, optimizer, photos_used: np.ndarray, epoch_rng) -> float:
        head.train()
        shuffled = photos_used[epoch_rng.permutation(len(photos_used))]
        losses = []
        for start in range(0, len(shuffled), config.batch_size):
            batch = shuffled[start : start + config.batch_size]
            if len(batch) < 2:
                continue
            chosen = torch.tensor(
                [data.texts_of_image[i][epoch_rng.integers(len(data.texts_of_image[i]))] for i in batch]
            )
            batch_index = torch.from_numpy(batch)
            loss = _loss(
                head, image_features[batch_index], text_features[chosen], image_groups[batch_index], text_groups[chosen]
            )
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        return float(np.mean(losses)) if losses else 0.0

    # Validation pairs are fixed: each held-out photo with its first text (the product name).
    validation_texts = torch.tensor([data.texts_of_image[i][0] for i in validation])

    def validation_loss(head: AlignmentHead) -> float:
        head.eval()
        with torch.no_grad():
            return float(
                _loss(
                    head,
                    image_features[validation],
                    text_features[validation_texts],
                    image_groups[validation],
                    text_groups[validation_texts],
                )
            )

    head = initial or AlignmentHead(
        data.image_features.shape[1], data.text_features.shape[1], config.joint_dim, config.hidden_dim, config.dropout
    )
    optimizer = torch.optim.AdamW(head.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay)
    report = TrainingReport(photos=photos, texts=len(data.text_features), validation_photos=validation_count)
    report.initial_validation_loss = best = validation_loss(head)
    best_state = {k: v.clone() for k, v in head.state_dict().items()}
    stale = 0
    for epoch in range(1, config.epochs + 1):
        train_loss = run_epoch(head, optimizer, train, rng)
        current = validation_loss(head)
        report.history.append((epoch, train_loss, current))
        report.epochs = epoch
        if current < best - 1e-4:
            best, stale = current, 0
            best_state = {k: v.clone() for k, v in head.state_dict().items()}
            report.best_epoch = epoch
            report.train_loss = train_loss
        else:
            stale += 1
        if progress:
            progress(epoch, config.epochs)
        if stale >= config.patience:
            break
    head.load_state_dict(best_state)
    report.validation_loss = best
    report.seconds = time.monotonic() - started
    return head.eval(), report
