"""The demo command (``make demo``): database, Redis, a Celery worker and the web server, with the demo catalog.

Starts (or reuses) the embedded PostgreSQL, uses the Redis at REDIS_URL or starts a private one, migrates,
imports demo_catalog/luma-dev on first run, then runs a Celery worker (with beat) and the web server until
Ctrl-C, and stops everything it started.
"""

import os
import signal
import subprocess
import sys

from scripts.services import PYTHON, ROOT, Services, free_port, port_is_free

DEMO_CATALOG = ROOT / "demo_catalog" / "luma-dev"


def manage(*args: str, env: dict[str, str]) -> None:
    subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=env, check=True)


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
        web = services.start("web", [PYTHON, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"], env=env)
        base = f"http://127.0.0.1:{port}"
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
            f"  health        {base}/healthz\n"
            f"  admin         {base}/admin/   (staff login printed above): products, {base}/admin/operations/,\n"
            f"                {base}/admin/analytics/, {base}/admin/playground/\n"
            f"Ctrl-C stops the web server, the worker and any Redis started for the demo.\n",
            flush=True,
        )
        return web.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        services.stop()


if __name__ == "__main__":
    sys.exit(main())
