"""``python manage.py embedded_db status|start|stop``: look after the embedded PostgreSQL server."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from shop_search import embedded_postgres


class Command(BaseCommand):
    help = "Show, start or stop the embedded PostgreSQL used when DATABASE_URL is unset."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["status", "start", "stop"])

    def handle(self, *args, action: str, **options):
        pgdata = settings.DATABASES["default"].get("PGDATA")
        if not pgdata:
            raise CommandError("DATABASE_URL is set: this process uses that server, not the embedded one")
        if action == "start":
            server = embedded_postgres.ensure_running(pgdata)
            self.stdout.write(f"running (pid {server.pid}), socket in {server.socket_dir}")
        elif action == "stop":
            self.stdout.write("stopped" if embedded_postgres.stop(pgdata) else "was not running")
        else:
            running = embedded_postgres.is_running(pgdata)
            self.stdout.write(f"{'running' if running else 'stopped'}: {pgdata}")
