"""The merchandisers' levers in force: synonym sets (``search.synonyms``) and query rules (``search.rules``).

Every process keeps them in memory and checks one version number in Redis on each search it computes (a cache
miss). A change (``merchandising_changed``, called by every write of a synonym set or rule) bumps the version,
deletes every cached result (any of them may be affected: a rule can match any query) and makes the spelling
vocabulary learn the synonyms' words. A search computed with an older version never stores its result
(``search.cache.cache_result`` compares the version), so no cached result outlives a change.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

import redis

from .cache import client, redis_key, unavailable_warn, write_client

logger = logging.getLogger(__name__)


def version_key() -> str:
    return redis_key("merchandising-version")  # also read by ``search.cache.cache_result``


def merchandising_version() -> str | None:
    """The version of the levers in force ("" before the first change; None: Redis does not answer)."""
    try:
        return client().get(version_key()) or ""
    except redis.RedisError as exc:
        unavailable_warn("merchandising version", exc)
        return None


# Without Redis, no version can be read: the levers are read again at most this often.
UNVERSIONED_SECONDS = 5.0


@dataclass(frozen=True)
class Levers:
    version: str | None
    synonyms: object  # search.synonyms.SynonymTable
    rules: tuple  # search.rules.Rule, in the order they apply
    loaded_at: float = 0.0


class _Cached:
    lock = threading.Lock()
    levers: Levers | None = None


def current_levers(stamp=None) -> Levers:
    """The synonym sets and rules in force, read again when their version changed (one Redis GET, unless the
    search's ``search.cache.Stamp`` read the version already)."""
    from .rules import rules_load
    from .synonyms import synonyms_load

    version = stamp.version if stamp is not None else merchandising_version()
    levers = _Cached.levers
    if (
        levers is not None
        and levers.version == version
        and (version is not None or time.monotonic() - levers.loaded_at < UNVERSIONED_SECONDS)
    ):
        return levers
    with _Cached.lock:
        levers = Levers(version, synonyms_load(), rules_load(), time.monotonic())
        _Cached.levers = levers
    return levers


def levers_forget() -> None:
    """Forget this process's levers (read again on the next search)."""
    _Cached.levers = None


def merchandising_changed() -> int:
    """After a synonym set or rule was written: bump the version, delete every cached result (returns how many)
    and have the spelling vocabulary rebuilt (it knows the synonyms' words)."""
    from .spelling import vocabulary_invalidate

    _Cached.levers = None
    vocabulary_invalidate()
    deleted = 0
    try:
        redis_client = write_client()
        redis_client.incr(version_key())
        batch = []
        for key in redis_client.scan_iter(redis_key("result*"), count=1000):
            batch.append(key)
            if len(batch) >= 1000:
                deleted += redis_client.delete(*batch)
                batch = []
        if batch:
            deleted += redis_client.delete(*batch)
    except redis.RedisError as exc:
        unavailable_warn("merchandising change", exc)
        logger.warning("cached results could not be deleted after a merchandising change; they expire on their own")
    return deleted
