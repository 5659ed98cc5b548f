"""Shared fixtures: isolated media storage, small catalogs on disk, and a real Celery worker process."""

from __future__ import annotations

import io
import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
DEMO_CATALOG = ROOT / "demo_catalog" / "luma-dev"


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path_factory):
    """Every test stores photos in a folder of its own."""
    settings.MEDIA_ROOT = str(tmp_path_factory.mktemp("media"))
    return Path(settings.MEDIA_ROOT)


def jpeg_bytes(size=(32, 24), color=(200, 30, 30), exif=None) -> bytes:
    buffer = io.BytesIO()
    image = Image.new("RGB", size, color)
    if exif is not None:
        image.save(buffer, "JPEG", exif=exif)
    else:
        image.save(buffer, "JPEG")
    return buffer.getvalue()


class CatalogDir:
    """A catalog folder under construction: ``add_product(...)``, ``add_photo(...)``, raw lines for bad input."""

    def __init__(self, path: Path):
        self.path = path
        self.path.mkdir(parents=True, exist_ok=True)
        (self.path / "images").mkdir(exist_ok=True)
        self.product_lines: list[str] = []
        self.review_lines: list[str] = []

    def add_photo(self, name: str, data: bytes | None = None) -> str:
        (self.path / "images" / name).write_bytes(jpeg_bytes() if data is None else data)
        return f"images/{name}"

    def add_product(self, **fields) -> int:
        """Append a product line; returns its line number."""
        record = {"sku": fields.pop("sku"), "name": fields.pop("name", "A product"), **fields}
        return self.add_line(json.dumps(record))

    def add_line(self, raw: str) -> int:
        self.product_lines.append(raw)
        return len(self.product_lines)

    def add_review(self, **fields) -> int:
        self.review_lines.append(json.dumps(fields))
        return len(self.review_lines)

    def write(self) -> Path:
        (self.path / "products.jsonl").write_text("\n".join(self.product_lines) + "\n")
        if self.review_lines:
            (self.path / "reviews.jsonl").write_text("\n".join(self.review_lines) + "\n")
        return self.path


@pytest.fixture
def api(client):
    """Django's test client as the storefront's API client (a host ALLOWED_HOSTS accepts)."""
    client.defaults["HTTP_HOST"] = "localhost"
    return client


@pytest.fixture
def catalog_dir(tmp_path) -> CatalogDir:
    return CatalogDir(tmp_path / "catalog")


@dataclass
class Worker:
    process: subprocess.Popen
    hostname: str
    media: Path

    def stop(self, sig: int = signal.SIGTERM) -> None:
        """Signal the worker and its pool processes (one process group), then wait for it."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, sig)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def spawn_worker(
    *,
    database: str,
    media: Path,
    name: str,
    env: dict[str, str] | None = None,
    queues: str = "default,embeddings,reindex",
    args: tuple[str, ...] = (),
) -> Worker:
    """Start ``celery -A shop_search worker`` (with extra command-line ``args``, e.g. ``-B``) on the test database and
    wait until it answers a ping."""
    from shop_search.celery import app

    hostname = f"{name}-{os.getpid()}@{socket.gethostname()}"
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "shop_search", "worker", "-Q", queues,
         "--concurrency", "1", "--pool", "prefork", "-n", hostname, "-l", "warning", "--without-gossip",
         "--without-mingle", *args],
        cwd=ROOT,
        start_new_session=True,
        env={**os.environ, "DATABASE_NAME": database, "DJANGO_ENV": "test", "MEDIA_ROOT": str(media), **(env or {})},
    )  # fmt: skip
    worker = Worker(process=process, hostname=hostname, media=media)
    deadline = time.monotonic() + 60
    while not app.control.ping(destination=[hostname], timeout=0.5):
        if process.poll() is not None:
            raise RuntimeError(f"the Celery worker exited with {process.returncode}")
        if time.monotonic() > deadline:
            worker.stop(signal.SIGKILL)
            raise RuntimeError("the Celery worker did not answer a ping within 60 s")
    return worker


@pytest.fixture(scope="session")
def test_database(django_db_setup, django_db_blocker) -> str:
    from django.db import connection

    with django_db_blocker.unblock():
        return connection.settings_dict["NAME"]


# The session's worker once started (``session_worker``): transactional tests wait for it to be idle at their end.
SESSION_WORKERS: list[Worker] = []


@pytest.fixture(scope="session")
def session_worker(test_database, tmp_path_factory):
    from shop_search.celery import app

    app.control.purge()
    worker = spawn_worker(database=test_database, media=tmp_path_factory.mktemp("worker-media"), name="tests")
    SESSION_WORKERS.append(worker)
    yield worker
    SESSION_WORKERS.remove(worker)
    worker.stop()


def worker_idle(worker: Worker, timeout: float = 120) -> None:
    """Purge the broker's queues, revoke what ``worker`` holds for later (a countdown) and wait until it runs and
    holds nothing."""
    from shop_search.celery import app

    app.control.purge()
    inspect = app.control.inspect(destination=[worker.hostname], timeout=1.0, limit=1)
    deadline = time.monotonic() + timeout
    while worker.process.poll() is None:
        scheduled = (inspect.scheduled() or {}).get(worker.hostname, [])
        if scheduled:
            app.control.revoke([task["request"]["id"] for task in scheduled])
        if not any((replies or {}).get(worker.hostname) for replies in (inspect.active(), inspect.reserved())):
            return
        assert time.monotonic() < deadline, f"the worker {worker.hostname} was still busy after {timeout} s"
        time.sleep(0.05)


@pytest.fixture(autouse=True)
def session_worker_idle_at_the_end(request):
    """A transactional test ends by emptying every table (TRUNCATE), which deadlocks with a task the session's
    worker still runs for it: an activated generation queues its quality report and similar-item lists, whoever
    activated it. So such a test first waits, at its end, until that worker is idle (its queues purged)."""
    marker = request.node.get_closest_marker("django_db")
    if marker is None or not marker.kwargs.get("transaction"):
        yield
        return
    request.getfixturevalue("transactional_db")  # set up first, so torn down (TRUNCATE) after the wait below
    yield
    for worker in SESSION_WORKERS:
        worker_idle(worker)


@pytest.fixture
def live_worker(session_worker, settings) -> Worker:
    """A real Celery worker process on the test database, through the real Redis broker, sharing this test's
    photo storage. Tests that use it must commit their data (``@pytest.mark.django_db(transaction=True)``)."""
    settings.MEDIA_ROOT = str(session_worker.media)
    return session_worker


# --- small catalogs with a generation (tiny deterministic encoders from the test settings) --------------------

COLOURS = {"Red": (220, 20, 20), "Blue": (20, 40, 220), "Green": (20, 180, 40), "Yellow": (240, 220, 20)}
KINDS = ["Jacket", "Hoodie", "Tent", "Bottle"]


def write_small_catalog(catalog_dir, *, photos_per_product: int = 2):
    """16 products: every colour of every kind, photos in the product's colour (shaded per photo)."""
    for kind in KINDS:
        for colour, rgb in COLOURS.items():
            sku = f"{kind[:3].upper()}-{colour[:3].upper()}"
            images = []
            for n in range(photos_per_product):
                shade = tuple(max(0, c - 25 * n) for c in rgb)
                images.append(catalog_dir.add_photo(f"{sku}-{n}.jpg", jpeg_bytes(size=(48, 64), color=shade)))
            catalog_dir.add_product(
                sku=sku,
                name=f"{colour} {kind.lower()}",
                categories=[f"Outdoor/{kind}s"],
                attributes={"color": colour},
                description=f"A {colour.lower()} {kind.lower()} for the outdoors.",
                images=images,
            )
    return catalog_dir.write()


def build_generation(**options):
    from embeddings.models import Job
    from embeddings.services.operations import job_run, job_start

    job = job_start(kind=Job.Kind.BUILD, options=options, run_async=False)
    job_run(job=job)
    job.refresh_from_db()
    assert job.state == Job.State.DONE, job.error
    return job.generation


@pytest.fixture(autouse=True)
def clean_search_cache():
    """Search results, popularity and the log buffer start empty in every test (keys of this test Redis DB)."""
    from search.cache import redis_key, write_client
    from search.selectors import process_caches_clear
    from search.spelling import vocabulary_invalidate
    from search.suggest import suggest_index_clear

    process_caches_clear()
    vocabulary_invalidate()  # each test has its own catalog
    suggest_index_clear()
    try:
        redis_client = write_client()  # a loaded machine's slow answer is waited for, as catalog writes do
        keys = list(redis_client.scan_iter(redis_key("*"), count=1000))
        keys += list(redis_client.scan_iter("*throttle*", count=1000))
        if keys:
            redis_client.delete(*keys)
    except Exception:  # noqa: BLE001 - tests that need Redis fail on their own
        pass
    yield
