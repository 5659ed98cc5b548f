"""``python manage.py generations list|activate N|rollback|collect|calibrate [N]``: look after embedding generations
(``calibrate`` measures a built generation's relevance thresholds again: ``embeddings.services.calibration``)."""

from django.core.management.base import BaseCommand, CommandError

from embeddings.models import EmbeddingGeneration
from embeddings.services.calibration import relevance_calibrate
from embeddings.services.generations import (
    GenerationError,
    generation_activate,
    generation_rollback,
    generations_collect,
)


class Command(BaseCommand):
    help = "List, activate, roll back or garbage-collect embedding generations."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["list", "activate", "rollback", "collect", "calibrate"])
        parser.add_argument(
            "generation", nargs="?", type=int, help="activate: which one; calibrate: default the active"
        )

    def handle(self, *args, action, generation, **options):
        try:
            if action == "activate":
                if generation is None:
                    raise CommandError("activate needs a generation number")
                target = EmbeddingGeneration.objects.filter(pk=generation).first()
                if target is None:
                    raise CommandError(f"no generation {generation}")
                self.stdout.write(f"generation {generation_activate(generation=target).pk} is active")
            elif action == "rollback":
                self.stdout.write(f"rolled back: generation {generation_rollback().pk} is active")
            elif action == "calibrate":
                states = [EmbeddingGeneration.State.ACTIVE, EmbeddingGeneration.State.READY]
                targets = EmbeddingGeneration.objects.filter(state__in=states).select_related("head")
                targets = targets.filter(pk=generation) if generation is not None else targets.filter(state=states[0])
                if not targets:
                    raise CommandError("calibrate needs a built generation (default: the active one)")
                for target in targets:
                    signals = relevance_calibrate(generation=target)["signals"]
                    self.stdout.write(f"generation {target.pk} relevance thresholds: " + ", ".join(
                        f"{name} {values['threshold']:.3f}" for name, values in sorted(signals.items())))  # fmt: skip
                return
            elif action == "collect":
                self.stdout.write(f"removed generations: {generations_collect() or 'none'}")
        except GenerationError as exc:
            raise CommandError(str(exc)) from None
        for row in EmbeddingGeneration.objects.select_related("head").order_by("-id"):
            spec = row.encoder_spec
            self.stdout.write(
                f"{row.pk:>4} {row.state:<9} {spec.get('text')}+{spec.get('image')} head {row.head_id} "
                f"weights {row.image_weight:g}/{row.text_weight:g} products {row.product_embeddings.count()} "
                f"created {row.created_at:%Y-%m-%d %H:%M}"
                + (f" search fusion {_fusion(row.search_fusion)}" if row.search_fusion else "")
                + (" text-only (no photo space)" if row.text_only else "")
                + (f" error: {row.error[:80]}" if row.error else "")
            )


def _fusion(data: dict) -> str:
    """A generation's own search fusion (``evaluate --tune --store``), in one line."""
    weights = ",".join(f"{name}={weight:g}" for name, weight in sorted(data.get("weights", {}).items()))
    return f"{data.get('method')}" + (f" k={data.get('rrf_k')}" if data.get("method") == "rrf" else "") + f" {weights}"
