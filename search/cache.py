"""The search result cache and query popularity, in Redis.

- A result is cached under a key made of the normalised request (query, filters, page, page size, explain) and
  the active generation, so activating a generation changes every key at once.
- Each cached result is listed under the products it contains; a product change deletes those results right
  after the change commits (``search_cache_invalidate_products``). A result is stored only if neither the
  merchandising version nor the catalog position (raised by every catalog write just before its invalidation)
  moved while it was computed (``Stamp``): a search that read the catalog before a write (or from a replica that
  had not replayed it) never stores its result after the write's invalidation.
- Popularity is a sorted set whose increments grow exponentially with time (a half-life), which is the same as
  decaying every older count; the daily task rescales it and trims the tail.
- Redis being down never fails a search: every call here degrades to "no cache" and logs (at most every 30 s).
  A search waits at most ``SEARCH_REDIS_TIMEOUT_SECONDS`` for Redis; the writes that keep cached results true (an
  invalidation, the catalog position, the merchandising version: ``write_client``) wait longer and are retried,
  since a lost one leaves results that no longer hold in the cache until they expire.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from dataclasses import dataclass

import redis
from django.conf import settings
from redis.backoff import ExponentialBackoff, NoBackoff
from redis.retry import Retry

logger = logging.getLogger(__name__)


def redis_key(*parts: object) -> str:
    """``<CACHE_KEY_PREFIX>:search:v1:<parts>``: sites sharing one Redis keep apart by their cache key prefix."""
    prefix = settings.CACHES["default"].get("KEY_PREFIX", "")
    return ":".join(str(part) for part in (prefix, "search:v1", *parts))


POPULAR_KEEP = 10_000  # members kept in the popularity set
# The writes that keep cached results true run after a catalog or merchandising write, never inside a search: each
# try waits this long, and a timed-out or dropped one is tried again (``WRITE_TRIES`` in all, backing off).
WRITE_TIMEOUT_SECONDS = 2.0
WRITE_TRIES = 4
WARNING_INTERVAL_SECONDS = 30

_clients: dict[str, tuple[str, redis.Redis]] = {}
_last_warning = 0.0
_lock = threading.Lock()


def _client(role: str) -> redis.Redis:
    with _lock:
        known = _clients.get(role)
        if known is None or known[0] != settings.REDIS_URL:
            if role == "write":
                timeout = WRITE_TIMEOUT_SECONDS
                retry = Retry(ExponentialBackoff(cap=1.0, base=0.05), WRITE_TRIES - 1)
            else:
                timeout, retry = settings.SEARCH_REDIS_TIMEOUT_SECONDS, Retry(NoBackoff(), 0)
            known = (
                settings.REDIS_URL,
                redis.Redis.from_url(
                    settings.REDIS_URL,
                    socket_timeout=timeout,
                    socket_connect_timeout=timeout,
                    retry=retry,  # retried on connection errors and timeouts (redis.retry.Retry's defaults)
                    decode_responses=True,
                ),
            )
            _clients[role] = known
        return known[1]


def client() -> redis.Redis:
    """The client searches use: a Redis that does not answer costs it at most
    ``SEARCH_REDIS_TIMEOUT_SECONDS``, tried once."""
    return _client("search")


def write_client() -> redis.Redis:
    """The client of the writes that keep cached results true: a longer wait, and retried (``WRITE_TRIES``). Every
    command they send may run twice without harm (a delete, a SET to a maximum, an INCR that only has to move)."""
    return _client("write")


def unavailable_warn(action: str, exc: Exception) -> None:
    """Log that Redis failed ``action`` (at most every ``WARNING_INTERVAL_SECONDS``)."""
    global _last_warning
    now = time.monotonic()
    if now - _last_warning > WARNING_INTERVAL_SECONDS:
        _last_warning = now
        logger.warning("search cache unavailable (%s: %s); answering uncached", action, exc)


# Part of every result key; raised when what a cached result holds changes shape (2: stored without product ids,
# sent as stored; 3: with the private ``_coverage`` last, cut off before sending; 4: with ``redirect``), so a
# deployment never serves entries written by the previous release.
RESULT_FORMAT = 4
# The private tail of a stored result: the search's joint-space coverage (``search.match_set.MatchSet``), which a
# cache hit logs as the search that computed it did. Stored last, so a hit cuts it off without parsing the page.
COVERAGE_KEY = ',"_coverage":'


def cache_key(request: dict, generation_id: int | None) -> str:
    """Key of a normalised search request's result: the request, the generation and the ranking settings (so a
    deployment that changes them never serves results ranked the old way)."""
    from .ranking import FusionConfig

    ranking = FusionConfig.from_settings()
    request = {**request, "ranking": [ranking.method, ranking.weights, ranking.rrf_k]}
    canonical = json.dumps(request, sort_keys=True, separators=(",", ":"), default=str)
    return redis_key(f"result{RESULT_FORMAT}", generation_id or 0, hashlib.sha1(canonical.encode()).hexdigest())


def cached_result_json(key: str) -> str | None:
    """The cached result as the JSON text it was stored as (a hit is sent without being parsed)."""
    try:
        return client().get(key)
    except redis.RedisError as exc:
        unavailable_warn("read", exc)
        return None


def cached_result_total(raw: str) -> int:
    """The ``total`` of a cached result's JSON text, read from its head (it is stored first) without parsing the
    page of results behind it."""
    head = '{"total":'
    if raw.startswith(head):
        return _json_decoder.raw_decode(raw, len(head))[0]
    return json.loads(raw)["total"]


_json_decoder = json.JSONDecoder()


def cached_result_split(raw: str) -> tuple[str, str]:
    """(the JSON text to send, the JSON text of its private ``_coverage`` or "") of a cached result's JSON text:
    the private part is its last key (``cache_result``), found from the end (a JSON string never holds an
    unescaped quote, so only a key can look like it)."""
    at = raw.rfind(COVERAGE_KEY)
    if at < 0:
        return raw, ""
    return raw[:at] + "}", raw[at + len(COVERAGE_KEY) : -1]


def cached_result(key: str) -> dict | None:
    raw = cached_result_json(key)
    return json.loads(raw) if raw else None


# Stores a result (KEYS[1], ARGV[1]) for ARGV[2] seconds and lists it under each of its products (KEYS[4:]): one
# command, however long the page; unless its stamp (ARGV[3], ``Stamp.text``) is no longer the current one, made of
# the merchandising version (KEYS[2]) and the catalog position (KEYS[3]): a rule or synonym changed meanwhile
# (``search.merchandising``), or a catalog write committed (``catalog_position_raise``, before that write's
# invalidation: so a result computed before a write is either stored before its invalidation, which deletes it,
# or refused). Sent as EVAL, like the popularity script: Redis keeps the compiled script by its hash, and nothing
# has to be loaded first.
_STORE_SCRIPT = """
local stamp = redis.call('GET', KEYS[2]) or ''
local position = redis.call('GET', KEYS[3])
if position and position ~= '0' then stamp = stamp .. '@' .. position end
if stamp ~= ARGV[3] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
for i = 4, #KEYS do
    redis.call('SADD', KEYS[i], KEYS[1])
    redis.call('EXPIRE', KEYS[i], ARGV[2])
end
return 1
"""
# Private parts of a result payload, never sent: its products' ids, the stamp it was computed with (``Stamp``) and
# its joint-space coverage (stored last, see ``COVERAGE_KEY``).
PRIVATE_KEYS = ("_product_ids", "_levers", "_coverage")


def cache_result(key: str, payload: dict, product_ids: list[int]) -> None:
    """Cache a result payload (without its private parts but its ``_coverage``, stored last), listed under
    ``product_ids``, unless the merchandising levers or the catalog changed since it was computed (its stamp,
    ``_levers``)."""
    stored = {name: value for name, value in payload.items() if name not in PRIVATE_KEYS}
    if "_coverage" in payload:
        stored["_coverage"] = payload["_coverage"]
    product_keys = [redis_key("product", product_id) for product_id in sorted(set(product_ids))]
    try:
        keys = [key, redis_key("merchandising-version"), catalog_position_key(), *product_keys]
        client().eval(_STORE_SCRIPT, len(keys), *keys, json.dumps(stored, separators=(",", ":")),
                      settings.SEARCH_CACHE_SECONDS, payload.get("_levers") or "")  # fmt: skip
    except redis.RedisError as exc:
        unavailable_warn("write", exc)


# --- what a result is stamped with: the merchandising version and the catalog position ---------------------------


def catalog_position_key() -> str:
    return redis_key("catalog-position")


@dataclass(frozen=True)
class Stamp:
    """What a search reads before it computes a result (one MGET): the merchandising version ("" before the first
    change) and the catalog position (the primary's WAL position after the last catalog write, in bytes: 0 before
    the first one; ``shop_search.db``). None: Redis did not answer."""

    version: str | None
    position: int | None

    def text(self, position: int | None) -> str | None:
        """The stamp of a result whose reads included the catalog position ``position`` (as ``_STORE_SCRIPT``
        makes it of the current values); None when unknown (the result is not stored)."""
        if self.version is None or position is None:
            return None
        return f"{self.version}@{position}" if position else self.version


def stamp_read() -> Stamp:
    try:
        version, position = client().mget(redis_key("merchandising-version"), catalog_position_key())
    except redis.RedisError as exc:
        unavailable_warn("stamp", exc)
        return Stamp(None, None)
    return Stamp(version or "", int(position or 0))


def catalog_position() -> int | None:
    """The catalog position (0 before the first recorded write; None: Redis did not answer)."""
    try:
        return int(client().get(catalog_position_key()) or 0)
    except redis.RedisError as exc:
        unavailable_warn("catalog position", exc)
        return None


# Sets KEYS[1] to ARGV[1] unless it holds a larger number already (two writers may record out of order).
_RAISE_SCRIPT = """
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) > current then redis.call('SET', KEYS[1], ARGV[1]) return 1 end
return 0
"""


def catalog_position_raise(position: int) -> None:
    """Raise the catalog position to ``position`` (never lower it)."""
    try:
        write_client().eval(_RAISE_SCRIPT, 1, catalog_position_key(), str(position))
    except redis.RedisError as exc:
        logger.error("catalog position not raised (%s): replicas may serve reads behind the last write", exc)


def search_cache_invalidate_products(*, product_ids: list[int]) -> int:
    """Delete every cached result that contains one of these products; returns how many were deleted."""
    if not product_ids:
        return 0
    sets = [redis_key("product", product_id) for product_id in set(product_ids)]
    try:
        redis_client = write_client()
        keys = redis_client.sunion(sets)
        if keys:
            redis_client.delete(*keys)
        redis_client.delete(*sets)
        return len(keys)
    except redis.RedisError as exc:
        logger.error(
            "cached results of %d changed product(s) not deleted (%s): they may be served until they expire (%d s)",
            len(sets), exc, settings.SEARCH_CACHE_SECONDS,
        )  # fmt: skip
        return 0


# --- a kind's counts, shared between processes ----------------------------------------------------------------


def _kind_counts_key(identity: tuple, key: tuple) -> str:
    digest = hashlib.sha1(repr((identity, key)).encode()).hexdigest()
    return redis_key("kind-counts", digest)


def kind_counts_read(identity: tuple | None, key: tuple) -> tuple[int, list[tuple[str, int]]] | None:
    """(total, facet counts) of a query kind under filters (``key``) that a process counted at the catalog state
    ``identity`` (``search.keywords.TermStatistics.identity``); None when none did (or Redis did not answer)."""
    if identity is None:
        return None
    try:
        raw = client().get(_kind_counts_key(identity, key))
    except redis.RedisError as exc:
        unavailable_warn("kind counts", exc)
        return None
    if raw is None:
        return None
    total, facets = json.loads(raw)
    return total, [(name, count) for name, count in facets]


def kind_counts_share(identity: tuple | None, key: tuple, total: int, facets: list[tuple[str, int]]) -> None:
    """Share counts this process read, for ``SEARCH_CACHE_SECONDS`` (a new catalog state names new keys)."""
    if identity is None:
        return
    try:
        client().set(_kind_counts_key(identity, key), json.dumps([total, facets]), ex=settings.SEARCH_CACHE_SECONDS)
    except redis.RedisError as exc:
        unavailable_warn("kind counts", exc)


# --- popularity -----------------------------------------------------------------------------------------------


def _half_life_seconds() -> float:
    return settings.SEARCH_POPULARITY_HALF_LIFE_HOURS * 3600


# Adds 2^((now - epoch) / half-life) to the request's count, the epoch set to now when there is none yet: one
# round trip, and the epoch read and the increment cannot interleave with a rescale.
_POPULARITY_SCRIPT = """
local epoch = tonumber(redis.call('GET', KEYS[1]))
if not epoch then
    redis.call('SET', KEYS[1], ARGV[1])
    epoch = tonumber(ARGV[1])
end
return redis.call('ZINCRBY', KEYS[2], 2 ^ ((tonumber(ARGV[1]) - epoch) / tonumber(ARGV[2])), ARGV[3])
"""


def popularity_count(pipeline: redis.client.Pipeline, request: dict) -> None:
    """Queue on ``pipeline`` one count of ``request`` (a normalised text search request); the caller sends it
    (``search_log_record`` sends it with the search's log row) and handles its errors. The script goes as EVAL: a
    pipeline cannot load a script that Redis does not hold yet, and Redis keeps the compiled script by its hash."""
    member = json.dumps(request, sort_keys=True, separators=(",", ":"))
    keys = [redis_key("popular-epoch"), redis_key("popular")]
    pipeline.eval(_POPULARITY_SCRIPT, len(keys), *keys, time.time(), _half_life_seconds(), member)


def popular_requests(limit: int) -> list[tuple[dict, float]]:
    """The most popular requests with their (decayed) counts, most popular first."""
    try:
        redis_client = client()
        rows = redis_client.zrevrange(redis_key("popular"), 0, limit - 1, withscores=True)
        epoch = float(redis_client.get(redis_key("popular-epoch")) or time.time())
    except redis.RedisError as exc:
        unavailable_warn("popularity", exc)
        return []
    scale = 2 ** ((time.time() - epoch) / _half_life_seconds())
    return [(json.loads(member), score / scale) for member, score in rows]


def popularity_rescale() -> None:
    """Move the epoch to now (dividing every score accordingly) and keep the top ``POPULAR_KEEP`` members."""
    try:
        redis_client = client()
        epoch = float(redis_client.get(redis_key("popular-epoch")) or 0)
        if epoch:
            now = time.time()
            factor = 2 ** (-(now - epoch) / _half_life_seconds())
            redis_client.zunionstore(redis_key("popular"), {redis_key("popular"): factor})
            redis_client.set(redis_key("popular-epoch"), now)
        redis_client.zremrangebyrank(redis_key("popular"), 0, -POPULAR_KEEP - 1)
    except redis.RedisError as exc:
        unavailable_warn("popularity", exc)
