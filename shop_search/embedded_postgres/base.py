"""Django database backend: PostgreSQL that starts the embedded server before its first connection (unless
``EMBEDDED_POSTGRES_AUTOSTART`` is off: then connecting fails while the server is stopped)."""

import psycopg
from django.conf import settings
from django.db.backends.postgresql import base

from . import create_database, ensure_running, is_running


class DatabaseWrapper(base.DatabaseWrapper):
    def get_connection_params(self):
        pgdata = self.settings_dict["PGDATA"]
        if not settings.EMBEDDED_POSTGRES_AUTOSTART and not is_running(pgdata):
            raise psycopg.OperationalError(
                f"the embedded PostgreSQL in {pgdata} is not running and EMBEDDED_POSTGRES_AUTOSTART is off "
                "(`manage.py embedded_db start` starts it)"
            )
        server = ensure_running(pgdata)
        self.settings_dict["HOST"] = server.socket_dir
        self.settings_dict["PORT"] = ""
        return super().get_connection_params()

    def get_new_connection(self, conn_params):
        try:
            return super().get_new_connection(conn_params)
        except psycopg.OperationalError as exc:
            # A fresh server has only the "postgres" database: create the configured one on first use.
            if "does not exist" not in str(exc):
                raise
            create_database(ensure_running(self.settings_dict["PGDATA"]), conn_params["dbname"])
            return super().get_new_connection(conn_params)
