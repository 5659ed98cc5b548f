"""The one reader of the process environment: every setting that comes from outside goes through ``env``."""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parents[2]

env = environ.Env()

# Where the embedded database, media and other local state live unless configured otherwise (git-ignored).
DATA_DIR = Path(env.str("SHOP_SEARCH_DATA_DIR", default=str(BASE_DIR / ".data"))).resolve()
