"""Reads over replicas: which database a read goes to (``DATABASE_REPLICA_URLS``, settings/database.py).

Writes, and every read outside a storefront read, go to the primary (``default``). A storefront read request (a
view with ``ReplicaReads``: search, photo search, similar items, products, categories, suggestions) reads from a
replica instead, through ``read_connection()`` (raw SQL) or the router (the ORM models in ``REPLICA_MODELS``):

- **Lazily**: the replica is chosen at the request's first read, so a cache hit that never reads costs nothing.
- **Round robin** over the replicas, skipping one that is down (for ``DATABASE_REPLICA_RETRY_SECONDS``) or behind,
  falling back to the primary.
- **Behind** means: it has not replayed the catalog position, the primary's WAL position recorded in Redis after
  every catalog write commits (``catalog_position_record``; a monotonic maximum). Each process remembers how far
  each replica had replayed when it last asked (``pg_last_wal_replay_lsn()``), so it asks again only after a
  catalog write the replica may not have yet: reads after a write see the write, wherever they run.
- A read inside a transaction of the primary, and every read after a write in the same request, goes to the
  primary (read your own writes).

What a process keeps across requests (merchandising levers, attribute setup, spelling vocabulary, term statistics,
the suggestion index, the active generation) is read from the primary: those caches are rebuilt when a version
changes, and one built from a replica that had not caught up would outlive its lag. That is why the router routes
only the models listed in ``REPLICA_MODELS``.

A search result is cached with a stamp of the merchandising version and the catalog position its reads included
(``search.cache.Stamp``); the store refuses it when either moved meanwhile, so a result computed before a catalog
write is never stored after the write's invalidation (``search.cache.cache_result``).
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import time
from contextvars import ContextVar
from dataclasses import dataclass

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections

logger = logging.getLogger(__name__)

# The ORM models a storefront read may read from a replica (``app_label.model``): the catalog and what search and
# similar items read of it. Every other model is read from the primary.
REPLICA_MODELS = frozenset({
    "catalog.product", "catalog.variant", "catalog.productimage", "catalog.category", "catalog.productcategory",
    "catalog.review", "embeddings.productembedding", "embeddings.imageembedding", "recommendations.similarlist",
    "search.searchdocument",
})  # fmt: skip

_UNKNOWN = object()


@dataclass
class _Reads:
    """One request's replica reads: the database chosen (None: not yet) and the catalog position it includes."""

    alias: str | None = None
    position: int | None = None  # what the replica was chosen for (None: unknown, Redis did not answer)
    required: object = _UNKNOWN  # the catalog position noted before the choice (``reads_at_least``)
    replica_used: bool = False  # a replica was chosen (reads after a write go to the primary all the same)
    replica: str | None = None  # which one


_reads: ContextVar[_Reads | None] = ContextVar("shop_search_replica_reads", default=None)


@contextlib.contextmanager
def replica_reads():
    """Within this block, reads through ``read_connection()`` and of ``REPLICA_MODELS`` may go to a replica."""
    reads = _Reads()
    token = _reads.set(reads)
    try:
        yield reads
    finally:
        _reads.reset(token)


class ReplicaReads:
    """View mixin: the view's requests with a method in ``replica_read_methods`` read from a replica.

    A replica that fails a request's read (it stopped, or dropped the connection: ``replica_lost``) is left alone for
    ``DATABASE_REPLICA_RETRY_SECONDS`` and the request runs once more, on another replica or the primary, so the
    shopper sees no error (a request's body can be read again: ``shop_search.middleware`` reads and keeps it, and
    the uploaded files are rewound). An error of the query itself (a statement timeout on a replica that answers) is
    not retried."""

    replica_read_methods: tuple[str, ...] = ("GET", "HEAD")

    def dispatch(self, request, *args, **kwargs):
        if request.method not in self.replica_read_methods or not settings.DATABASE_REPLICAS:
            return super().dispatch(request, *args, **kwargs)
        with replica_reads() as reads:
            try:
                return super().dispatch(request, *args, **kwargs)
            except DatabaseError as exc:
                if not replica_lost(reads, exc):
                    raise
        files = getattr(request, "_files", None)  # parsed (and read) the first time
        for _, uploads in files.lists() if files else ():
            for upload in uploads:
                upload.seek(0)
        with replica_reads():
            return super().dispatch(request, *args, **kwargs)


def replica_lost(reads: _Reads, exc: DatabaseError) -> bool:
    """Whether ``exc``, raised in a request that read from a replica, came from losing that replica: then it is
    left alone for ``DATABASE_REPLICA_RETRY_SECONDS`` and True is returned."""
    if reads.replica is None:
        return False
    connection = connections[reads.replica]
    if connection.connection is not None and connection.is_usable():
        return False  # it answers: the error was the query's own
    _leave_alone(reads.replica, f"failed a read ({str(exc).strip()})")
    return True


def read_alias() -> str:
    """The database this request's reads go to (chosen at its first read)."""
    reads = _reads.get()
    if reads is None or connections[DEFAULT_DB_ALIAS].in_atomic_block or not settings.DATABASE_REPLICAS:
        return DEFAULT_DB_ALIAS
    if reads.alias is None:
        _choose(reads)
    return reads.alias


def read_connection():
    """The connection for a read: a replica's in a storefront read request (``ReplicaReads``), else the primary's."""
    return connections[read_alias()]


def reads_at_least(position: int | None) -> int | None:
    """Note that this request's reads must include the catalog position ``position`` (read by the caller from
    Redis; None: Redis did not answer) and return the position they are known to include: ``position`` unless a
    database was chosen already for an older one (or Redis did not answer then: None)."""
    reads = _reads.get()
    if reads is None or connections[DEFAULT_DB_ALIAS].in_atomic_block or not settings.DATABASE_REPLICAS:
        return position  # the primary has every committed write
    if reads.alias is None:
        reads.required = position
        return position
    if not reads.replica_used:
        return position
    if reads.position is None or position is None:
        return None
    return min(reads.position, position)


# --- choosing a replica ------------------------------------------------------------------------------------------


@dataclass
class _Replica:
    """What this process knows of one replica: how far it had replayed when last asked, and until when it is
    left alone after a failure."""

    replayed: int = -1
    down_until: float = 0.0


_replicas: dict[str, _Replica] = {}
_turn = itertools.count()


def _choose(reads: _Reads) -> None:
    if reads.required is _UNKNOWN:
        from search.cache import catalog_position

        reads.required = catalog_position()
    reads.position = reads.required
    replicas = list(settings.DATABASE_REPLICAS)
    reads.alias = DEFAULT_DB_ALIAS
    if reads.position is None:  # without Redis, how far a replica must have replayed is unknown
        return
    start = next(_turn) % len(replicas)
    for alias in replicas[start:] + replicas[:start]:
        if _usable(alias, reads.position):
            reads.alias = reads.replica = alias
            reads.replica_used = True
            return


def _usable(alias: str, position: int) -> bool:
    """Whether ``alias`` answers and has replayed ``position`` (asked only when not known already)."""
    state = _replicas.setdefault(alias, _Replica())
    now = time.monotonic()
    if now < state.down_until:
        return False
    connection = connections[alias]
    try:
        connection.close_if_health_check_failed()  # once per request, as Django does before its first query
        connection.ensure_connection()
        if state.replayed < position:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_last_wal_replay_lsn() - '0/0'::pg_lsn")
                replayed = cursor.fetchone()[0]
            if replayed is None:  # not a standby (a promoted one): its data may have parted from the primary's
                logger.warning("database %s is not a standby; reads go elsewhere", alias)
                state.down_until = now + settings.DATABASE_REPLICA_RETRY_SECONDS
                return False
            state.replayed = max(state.replayed, int(replayed))
    except DatabaseError as exc:
        _leave_alone(alias, f"unavailable ({str(exc).strip()})")
        return False
    return state.replayed >= position


def _leave_alone(alias: str, why: str) -> None:
    """No read goes to replica ``alias`` for ``DATABASE_REPLICA_RETRY_SECONDS``; its connection is closed."""
    logger.warning("replica %s %s; reads go elsewhere for %s s", alias, why, settings.DATABASE_REPLICA_RETRY_SECONDS)
    state = _replicas.setdefault(alias, _Replica())
    state.down_until = time.monotonic() + settings.DATABASE_REPLICA_RETRY_SECONDS
    state.replayed = -1
    connections[alias].close()


def replicas_forget() -> None:
    """Forget what this process knows of the replicas (tests)."""
    _replicas.clear()


# --- the catalog position --------------------------------------------------------------------------------------


def primary_position() -> int:
    """The primary's WAL position now, in bytes: every write committed before this call is at or before it."""
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_lsn() - '0/0'::pg_lsn")
        return int(cursor.fetchone()[0])


def catalog_position_record() -> None:
    """After a catalog write committed (before its cached results are invalidated): raise the catalog position in
    Redis to the primary's WAL position, so that no replica that has not replayed the write is read from again."""
    from search.cache import catalog_position_raise

    try:
        position = primary_position()
    except DatabaseError as exc:
        logger.warning("catalog position not recorded (%s): replicas may serve reads behind the last write", exc)
        return
    catalog_position_raise(position)


# --- the router ------------------------------------------------------------------------------------------------


class ReplicaRouter:
    """``DATABASE_ROUTERS``: reads of ``REPLICA_MODELS`` go where ``read_alias()`` says; every write, and every other
    read, to the primary. After a write, the request's reads go to the primary too."""

    def db_for_read(self, model, **hints):
        if model._meta.label_lower in REPLICA_MODELS:
            return read_alias()
        return DEFAULT_DB_ALIAS

    def db_for_write(self, model, **hints):
        reads = _reads.get()
        if reads is not None:
            reads.alias = DEFAULT_DB_ALIAS
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        return True  # every database holds the same rows

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return False if db in settings.DATABASE_REPLICAS else None
