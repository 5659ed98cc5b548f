"""``python manage.py demo_setup``: first-run set-up of the demo (catalog import and an admin user)."""

import secrets
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand

from catalog.models import Product
from embeddings.models import EmbeddingGeneration
from shop_search.settings.env import DATA_DIR


class Command(BaseCommand):
    help = "First run of the demo: import the catalog, build an embedding generation, create a staff user 'admin'."

    def add_arguments(self, parser):
        parser.add_argument("--catalog", type=Path, required=True)

    def handle(self, *args, catalog: Path, **options):
        if not Product.objects.exists():
            self.stdout.write(f"Importing the demo catalog from {catalog} ...")
            call_command("import_catalog", str(catalog))
        if not EmbeddingGeneration.objects.filter(state=EmbeddingGeneration.State.ACTIVE).exists():
            self.stdout.write("Training the alignment head and embedding the catalog (first run only) ...")
            call_command("reindex")
        users = get_user_model().objects
        password_file = DATA_DIR / "demo-admin-password"
        if not users.filter(username="admin").exists():
            password = secrets.token_urlsafe(9)
            users.create_superuser("admin", "admin@example.com", password)
            password_file.parent.mkdir(parents=True, exist_ok=True)
            password_file.write_text(password)
            password_file.chmod(0o600)
        if password_file.exists():
            self.stdout.write(f"Staff login: admin / {password_file.read_text().strip()}")
