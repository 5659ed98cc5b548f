"""Database: ``DATABASE_URL`` when set, else the embedded PostgreSQL+pgvector in ``DATA_DIR/postgres``."""

from .env import DATA_DIR, env

EMBEDDED_POSTGRES_DIR = DATA_DIR / "postgres"
# Buffer pool of the embedded server (applied when it starts): enough to keep the active generation's HNSW
# indexes in memory (about 700 MB at 50,000 products with photos). Shared memory is only touched as it fills.
EMBEDDED_POSTGRES_SHARED_BUFFERS = env.str("EMBEDDED_POSTGRES_SHARED_BUFFERS", default="1GB")
# Off: a process connects to the embedded server only when it is running and never starts it (connecting fails
# instead). ``make lint`` turns it off, so that ``makemigrations --check`` leaves no server behind it.
EMBEDDED_POSTGRES_AUTOSTART = env.bool("EMBEDDED_POSTGRES_AUTOSTART", default=True)

if env.str("DATABASE_URL", default=""):
    DATABASES = {"default": env.db("DATABASE_URL")}
else:
    # Started on the first connection by whichever process comes first (web, worker, tests, manage.py);
    # the others find it running and share it. See shop_search/embedded_postgres/.
    DATABASES = {
        "default": {
            "ENGINE": "shop_search.embedded_postgres",
            "NAME": "shop_search",
            "USER": "postgres",
            "PGDATA": str(EMBEDDED_POSTGRES_DIR),
        }
    }

# Points a process at another database of the same server: the test suite uses it to send its Celery worker
# to the test database.
if env.str("DATABASE_NAME", default=""):
    DATABASES["default"]["NAME"] = env.str("DATABASE_NAME")

# pgvector query settings for every connection. ef_search trades speed for recall: 40 keeps recall@10 of the
# SEARCH_VECTOR_CANDIDATES (30) a search reads above 0.97 at 50,000 products (bench/search_latency.py), and iterative
# scans keep returning rows under selective filters (or past ef_search) until LIMIT is met.
HNSW_EF_SEARCH = env.int("HNSW_EF_SEARCH", default=40)
HNSW_MAX_SCAN_TUPLES = env.int("HNSW_MAX_SCAN_TUPLES", default=40000)
# The search documents and indexes live in the buffer pool: a random page read costs about what a sequential one
# does. With PostgreSQL's default (4) the planner reads every search document rather than the GIN index's members
# for a query matching a fifth of the catalog: 61-72 ms instead of 27-34 ms at 50,000 products.
DATABASE_RANDOM_PAGE_COST = env.float("DATABASE_RANDOM_PAGE_COST", default=1.1)
# The lists of the binary photo codes' IVFFlat index (embeddings/indexes.py) that photo search reads (each list is
# about 1,000 codes; a scan reads more when a filter leaves too few). At 50,000 products (64,408 photos, 64 lists)
# 20 lists gave recall@10 0.989 / 0.987 (catalog photos / luma-dev's withheld views) against 0.987 / 0.976 for 8,
# with 300 photos re-scored, within 2 ms (bench/vector_storage.py).
IVFFLAT_PROBES = env.int("IVFFLAT_PROBES", default=20)
DATABASES["default"].setdefault("OPTIONS", {})["options"] = (
    f"-c hnsw.ef_search={HNSW_EF_SEARCH} -c hnsw.iterative_scan=relaxed_order "
    f"-c hnsw.max_scan_tuples={HNSW_MAX_SCAN_TUPLES} -c ivfflat.probes={IVFFLAT_PROBES} "
    f"-c ivfflat.iterative_scan=relaxed_order -c random_page_cost={DATABASE_RANDOM_PAGE_COST}"
)
# TCP keepalives (libpq; ignored on the embedded server's Unix socket): a worker host that dies or drops off the
# network loses its session within about a minute, and with it the advisory lock of the job it was running (the
# stall check re-queues jobs only when their lock is free: embeddings/services/operations.py). Job locks are
# session locks: a pooler in front of PostgreSQL must pool sessions, not transactions.
DATABASES["default"]["OPTIONS"].update(keepalives=1, keepalives_idle=30, keepalives_interval=10, keepalives_count=3)
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

# Read replicas (shop_search/db.py): comma-separated URLs of streaming replicas of DATABASE_URL's server. Storefront
# reads (search, photo search, similar items, products, categories, suggestions) go to them, round robin, skipping
# one that is down or has not replayed the last catalog write; everything else goes to the primary. Empty: none.
DATABASE_REPLICA_URLS = env.list("DATABASE_REPLICA_URLS", default=[])
# A replica that fails to connect is left alone for this long (each process tries it again after it).
DATABASE_REPLICA_RETRY_SECONDS = env.float("DATABASE_REPLICA_RETRY_SECONDS", default=10.0)
# Seconds to wait for a replica's connection (libpq's minimum is 2): what a replica that went away costs a request,
# once per DATABASE_REPLICA_RETRY_SECONDS per process.
DATABASE_REPLICA_CONNECT_TIMEOUT = env.int("DATABASE_REPLICA_CONNECT_TIMEOUT", default=2)
DATABASE_REPLICAS: list[str] = []  # their aliases in DATABASES: replica1, replica2, ...
for _number, _url in enumerate(DATABASE_REPLICA_URLS, start=1):
    _replica = env.db_url_config(_url)
    _replica["OPTIONS"] = {**DATABASES["default"]["OPTIONS"], **_replica.get("OPTIONS", {}),
                           "connect_timeout": DATABASE_REPLICA_CONNECT_TIMEOUT}  # fmt: skip
    _replica.update(CONN_MAX_AGE=DATABASES["default"]["CONN_MAX_AGE"], CONN_HEALTH_CHECKS=True,
                    TEST={"MIRROR": "default"})  # fmt: skip
    DATABASES[f"replica{_number}"] = _replica
    DATABASE_REPLICAS.append(f"replica{_number}")
DATABASE_ROUTERS = ["shop_search.db.ReplicaRouter"]
