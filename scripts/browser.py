"""What the browser tests need from the system: Debian's Chromium and its chromedriver.

``ensure_browser()`` returns at once when both are installed; otherwise, as root on a Debian-like system, it
installs the ``chromium`` and ``chromium-driver`` packages with apt-get (nothing downloads a browser of its own).
Selenium itself comes from requirements-dev.txt.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
PACKAGES = ["chromium", "chromium-driver"]


def browser_installed() -> bool:
    return CHROMIUM.exists() and CHROMEDRIVER.exists()


def ensure_browser() -> bool:
    """True when Chromium and chromedriver are there (installing them if needed and possible)."""
    if browser_installed():
        return True
    apt = shutil.which("apt-get")
    if apt is None or os.geteuid() != 0:
        print(f"browser tests need {CHROMIUM} and {CHROMEDRIVER}: install them with "
              f"`sudo apt-get install -y {' '.join(PACKAGES)}` (they will fail until then)", flush=True)  # fmt: skip
        return False
    print(f"installing {' '.join(PACKAGES)} for the browser tests (apt-get) ...", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    command = [apt, "install", "-y", "-q", "--no-install-recommends", *PACKAGES]
    if subprocess.call(command, env=env) != 0:  # perhaps a stale package list: update it once and retry
        subprocess.call([apt, "update", "-q"], env=env)
        subprocess.call(command, env=env)
    if not browser_installed():
        print(f"could not install {' '.join(PACKAGES)} with apt-get; the browser tests will fail "
              "(see the apt-get output above)", flush=True)  # fmt: skip
        return False
    return True


if __name__ == "__main__":
    raise SystemExit(0 if ensure_browser() else 1)
