"""The demo command (``make demo``): database, Redis, a Celery worker and the web server, with the demo catalog.

Starts (or reuses) the embedded PostgreSQL, uses the Redis at REDIS_URL or starts a private one, migrates,
imports demo_catalog/luma-dev on first run, then runs a Celery worker (with beat) and the web server (gunicorn,
printing the URLs once it has warmed up) until Ctrl-C, and stops everything it started: the web server, the worker,
a private Redis and the embedded PostgreSQL unless it was running before.
"""

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

from scripts.services import PYTHON, ROOT, Services, free_port, port_is_free

DEMO_CATALOG = ROOT / "demo_catalog" / "luma-dev"
# How long the demo waits for the web server to warm up before printing its URLs anyway.
READY_WAIT_SECONDS = 180


def manage(*args: str, env: dict[str, str]) -> None:
    subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=env, check=True)


def wait_ready(base: str, web: subprocess.Popen) -> None:
    """Wait until the web server's /readyz answers 200 (its worker has warmed up) and say how long that took."""
    started = time.monotonic()
    body: dict = {}
    while time.monotonic() - started < READY_WAIT_SECONDS and web.poll() is None:
        try:
            with urllib.request.urlopen(f"{base}/readyz", timeout=5) as response:
                body = json.load(response)
            print(f"Web server ready in {time.monotonic() - started:.1f} s ({body.get('detail')}; warm-up "
                  f"{body.get('seconds')} s)", flush=True)  # fmt: skip
            return
        except urllib.error.HTTPError as exc:  # 503 while warming up
            body = json.load(exc)
        except OSError:  # not listening yet
            pass
        time.sleep(0.5)
    if web.poll() is None:
        print(f"Web server not ready after {READY_WAIT_SECONDS} s: {body.get('reason', body)}", flush=True)


def main() -> int:
    services = Services()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    signal.signal(signal.SIGINT, signal.default_int_handler)  # also when started from a non-interactive shell
    try:
        env = dict(os.environ)
        env.setdefault("DJANGO_ENV", "local")
        env.setdefault("HF_HUB_OFFLINE", "1")
        env.setdefault("TRANSFORMERS_OFFLINE", "1")
        env["REDIS_URL"] = services.ensure_redis(env.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
        # migrate starts the embedded PostgreSQL if it is not running: stopped at the end then, else left alone.
        services.track_embedded_db(env)
        manage("migrate", "--noinput", "-v0", env=env)
        manage("demo_setup", "--catalog", str(DEMO_CATALOG), env=env)
        port = int(env.get("PORT", "8000"))
        if not port_is_free(port):
            port = free_port()
        services.start(
            "worker",
            [
                PYTHON,
                "-m",
                "celery",
                "-A",
                "shop_search",
                "worker",
                "-B",
                "-Q",
                "default,embeddings,reindex",
                "--concurrency",
                "2",
                "-l",
                "warning",
            ],
            env=env,
        )
        # gunicorn, as in docker-compose.yml: its worker warms up (models loaded, a query encoded) before it takes a
        # request; one process with threads, like runserver (static files through WhiteNoise, media through Django).
        web = services.start(
            "web",
            [
                PYTHON, "-m", "gunicorn", "-c", "shop_search/gunicorn.conf.py", "--bind", f"127.0.0.1:{port}",
                "--workers", "1", "--threads", "8", "--graceful-timeout", "5", "--access-logfile", "-",
            ],
            env=env,
        )  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        wait_ready(base, web)
        print(
            f"\nshop-search demo is up:\n"
            f"  storefront    {base}/   (search, facets, photo search, product pages with similar items)\n"
            f"  search        {base}/api/v1/search?q=black+hoodie&explain=1\n"
            f"  typo          {base}/api/v1/search?q=hodie\n"
            f"  browse        {base}/api/v1/search?category=Men/Tops&color=Black\n"
            f"  similar       {base}/api/v1/products/MH01/similar?k=5\n"
            f"  photo search  curl -F image=@demo_catalog/luma-dev/images/mh01-gray_back.jpg \\\n"
            f"                {base}/api/v1/search/image\n"
            f"  API docs      {base}/api/docs/\n"
            f"  health        {base}/healthz   (alive), {base}/readyz   (warmed up)\n"
            f"  admin         {base}/admin/   (staff login printed above): products, {base}/admin/operations/,\n"
            f"                {base}/admin/analytics/, {base}/admin/playground/\n"
            f"Ctrl-C stops the web server, the worker and any Redis or PostgreSQL started for the demo.\n",
            flush=True,
        )
        return web.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        services.stop()


if __name__ == "__main__":
    sys.exit(main())
