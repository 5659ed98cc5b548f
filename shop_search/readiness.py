"""Readiness of a serving process: the active generation's encoders and head loaded, and one text query and one
small photo encoded through them, before the process takes its first request (a cold load costs about 5 s).

- gunicorn (``post_worker_init`` in ``shop_search/gunicorn.conf.py``) and Celery (``worker_process_init`` in
  ``shop_search/celery.py``) call ``warm_up_start()`` in every serving process and wait for its first attempt.
  Management commands, the shell and the tests never do, so they pay nothing.
- The warm-up runs on a thread of its own. While the database does not answer (or any step fails) it retries with a
  growing pause and the process reports not ready; it never stops the process.
- Afterwards, in a web process, the same thread keeps every live generation warm: one being built has its models
  loaded before it is activated, so the switch costs no request a model load; an activation in this process wakes
  the thread at once. (A worker's models for a new generation come with building it.)
- ``/readyz`` (``shop_search.views.ready``) answers 200 once this process is warm, 503 with the reason before.
- ``models_loaded()`` counts the model loads of this process (a search after warm-up must add none).
"""

from __future__ import annotations

import dataclasses
import logging
import os
import threading
import time

from django.db import connections

logger = logging.getLogger(__name__)

# What the warm-up encodes: one short query and one small plain photo, enough to run every layer once (and to
# trace the int8 query encoder, ``SEARCH_QUERY_INT8``).
WARM_UP_TEXT = "warm-up query"
WARM_UP_PHOTO_SIZE = (64, 64)
WARM_UP_PHOTO_COLOUR = (128, 128, 128)
# Pause before the first retry of a failed warm-up, doubled after each failure up to the maximum.
RETRY_FIRST_SECONDS = 1.0
RETRY_MAX_SECONDS = 60.0
# How often a warm process looks for a new live generation: one small query per process per period.
WATCH_SECONDS = 10.0

NO_GENERATION = "no generation: keyword search only"


@dataclasses.dataclass
class Readiness:
    ready: bool = False
    state: str = "not started"  # not started, warming, ready, failed (retried)
    detail: str = "warm-up has not run in this process (gunicorn and Celery workers start it)"
    generation: int | None = None  # the active generation warmed at start
    seconds: float | None = None  # how long the last warm-up attempt took
    error: str = ""
    attempts: int = 0
    warm_generations: list[int] = dataclasses.field(default_factory=list)

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


_lock = threading.Lock()
_state = Readiness()
# This process's warm-up thread, its first-attempt event and its wake-up event, keyed by pid (threads do not
# survive a fork, so a forked child starts its own).
_runner: tuple[int, threading.Thread, threading.Event, threading.Event] | None = None


def readiness() -> Readiness:
    """A copy of this process's readiness."""
    with _lock:
        return dataclasses.replace(_state, warm_generations=list(_state.warm_generations))


def _record(**changes) -> Readiness:
    with _lock:
        for name, value in changes.items():
            setattr(_state, name, value)
        return dataclasses.replace(_state, warm_generations=list(_state.warm_generations))


def _warm_add(generation_id: int) -> None:
    with _lock:
        if generation_id not in _state.warm_generations:
            _state.warm_generations.append(generation_id)


def models_loaded() -> int:
    """How many times this process has loaded encoders, traced a query encoder or read an alignment head: the misses
    of the per-process caches those loaders keep (``functools.cache`` counts every call that had to load)."""
    from embeddings.neural import encoders
    from embeddings.services import embedding

    loaders = (encoders._load, encoders._query_encoder, embedding.load_head)
    return sum(loader.cache_info().misses for loader in loaders)


def generation_warm(generation):
    """Load ``generation``'s encoders and head (and the query encoder) and encode one text query and one small photo
    through the query-encoding door, as a search does. Returns the query's joint-space vector."""
    from PIL import Image

    from embeddings.queries import photo_query, query_text_vectors

    _text_vector, joint = query_text_vectors(generation, WARM_UP_TEXT)
    photo_query(generation, Image.new("RGB", WARM_UP_PHOTO_SIZE, WARM_UP_PHOTO_COLOUR))
    _warm_add(generation.pk)
    return joint


def warm_up(*, searches: bool = True) -> Readiness:
    """One warm-up attempt in this thread: the active generation's models loaded and exercised, one nearest-neighbour
    statement on its fused index (the connection and the index's first pages), with ``searches`` (a web process)
    the spelling vocabulary, term statistics and word frequencies read, the URL modules imported. Ready without a
    generation (keyword search needs no model). Records and returns the state; never raises."""
    from django.urls import get_resolver

    from embeddings.selectors import active_generation, nearest_products
    from search.documents import documents_language_check
    from search.keywords import term_statistics
    from search.spelling import current_vocabulary, is_common_word

    started = time.monotonic()
    attempts = readiness().attempts + 1
    _record(state="warming", detail="warming up", attempts=attempts)
    try:
        generation = active_generation()
        if generation is None:
            detail = NO_GENERATION
        else:
            _record(detail=f"loading generation {generation.pk}'s models")
            joint = generation_warm(generation)
            try:
                nearest_products(generation, joint, column="fused", k=1)
            except ValueError as exc:  # dimensions that do not match: search reports it, readiness does not
                logger.warning("warm-up search statement skipped: %s", exc)
            detail = f"generation {generation.pk} warm"
        if searches:  # a web process: what its first search would read (a worker's tasks do not need it soon)
            documents_language_check()  # SEARCH_TEXT_CONFIG exists; documents built with it (else rebuilt)
            current_vocabulary()
            term_statistics()  # the keyword signal's inverse document frequencies and category names
            is_common_word("warm")  # loads the language's word frequencies
        _urls = get_resolver().url_patterns  # imports the URL modules and views (0.1 s of a first request)
    except Exception as exc:  # noqa: BLE001 - a process that cannot warm up yet stays up and says why
        seconds = time.monotonic() - started
        error = _describe(exc)
        logger.warning("warm-up attempt %d failed after %.1f s: %s", attempts, seconds, error)
        return _record(ready=False, state="failed", detail="warm-up failed", error=error, seconds=round(seconds, 3))
    seconds = time.monotonic() - started
    logger.info("warm-up done in %.2f s: %s", seconds, detail)
    return _record(
        ready=True, state="ready", detail=detail, error="", seconds=round(seconds, 3),
        generation=None if generation is None else generation.pk,
    )  # fmt: skip


def _describe(exc: Exception) -> str:
    """The exception's class and the first line of its message (a database error goes on with the SQL)."""
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0]}"[:300] if lines else type(exc).__name__


def generations_warm() -> list[int]:
    """Warm every live generation (active, being built) not warm in this process yet; their ids."""
    from embeddings.models import EmbeddingGeneration
    from embeddings.selectors import live_generations

    warmed = []
    known = set(readiness().warm_generations)
    for generation in live_generations():
        if generation.pk in known:
            continue
        started = time.monotonic()
        generation_warm(generation)
        logger.info("generation %s (%s) warm in %.2f s", generation.pk, generation.state, time.monotonic() - started)
        if generation.state == EmbeddingGeneration.State.ACTIVE:
            _record(generation=generation.pk, detail=f"generation {generation.pk} warm")
        warmed.append(generation.pk)
    return warmed


def warm_up_start(*, watch: bool = True) -> None:
    """Start this process's warm-up thread (once per process): it warms up, retries until that works, then, with
    ``watch``, keeps the live generations warm. ``warm_up_wait`` waits for its first attempt."""
    global _runner
    from embeddings.signals import generation_activated

    with _lock:
        if _runner is not None and _runner[0] == os.getpid():
            return
        first_attempt, wake = threading.Event(), threading.Event()
        thread = threading.Thread(target=_run, args=(first_attempt, wake, watch), name="readiness", daemon=True)
        _runner = (os.getpid(), thread, first_attempt, wake)
    generation_activated.connect(_on_activation, dispatch_uid="shop_search.readiness")
    thread.start()


def warm_up_wait(timeout: float) -> bool:
    """Wait up to ``timeout`` seconds for this process's first warm-up attempt; whether it has finished."""
    runner = _runner
    if runner is None or runner[0] != os.getpid():
        return False
    return runner[2].wait(timeout)


def _on_activation(sender, generation_id: int, **kwargs) -> None:
    """A generation became active in this process: warm it now rather than at the next look."""
    runner = _runner
    if runner is not None and runner[0] == os.getpid():
        runner[3].set()


def _run(first_attempt: threading.Event, wake: threading.Event, watch: bool) -> None:
    pause = RETRY_FIRST_SECONDS
    try:
        while not warm_up(searches=watch).ready:
            first_attempt.set()
            _record(detail=f"warm-up failed, retrying in {pause:.0f} s")
            connections.close_all()  # this thread's connections: a broken one is not reused
            time.sleep(pause)
            pause = min(pause * 2, RETRY_MAX_SECONDS)
        first_attempt.set()
        failing: set[str] = set()
        while watch:
            connections.close_all()  # no idle connection held between looks
            wake.wait(WATCH_SECONDS)
            wake.clear()
            try:
                generations_warm()
                failing.clear()
            except Exception as exc:  # noqa: BLE001 - tried again at the next look; logged once per failure
                error = _describe(exc)
                if error not in failing:
                    failing.add(error)
                    logger.warning("could not warm a live generation: %s", error)
    finally:
        first_attempt.set()
        connections.close_all()
