"""``manage.py api_keys create|list|revoke``: API keys from the command line (the admin has the same)."""

import json

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from api_keys.models import ApiKey
from api_keys.services import ApiKeyError, api_key_create, api_key_revoke


class Command(BaseCommand):
    help = "Create, list and revoke API keys (search-only keys for storefronts, admin keys for writes)."

    def add_arguments(self, parser):
        commands = parser.add_subparsers(dest="action", required=True)
        create = commands.add_parser("create", help="create a key and print its secret (shown only this once)")
        create.add_argument("--name", required=True, help="who uses it, e.g. storefront")
        create.add_argument("--scope", choices=ApiKey.Scope.values, default=ApiKey.Scope.SEARCH)
        create.add_argument("--rate", default="", help="requests per client address, e.g. 100/min")
        create.add_argument("--origin", action="append", default=[], dest="origins",
                            help="a site the key may be used from (repeat), e.g. https://shop.example.com")  # fmt: skip
        create.add_argument("--filter", action="append", default=[], dest="filters", metavar="NAME=VALUE",
                            help="a filter every search with the key is held to (repeat), e.g. brand=Luma")  # fmt: skip
        create.add_argument("--user", help="the staff user an admin key acts as")
        commands.add_parser("list", help="list the keys (never their secrets)")
        revoke = commands.add_parser("revoke", help="revoke a key by its prefix (as listed) or id")
        revoke.add_argument("key")

    def handle(self, *args, action: str, **options):
        getattr(self, f"_{action}")(**options)

    def _create(self, *, name, scope, rate, origins, filters, user, **_):
        staff = None
        if user:
            staff = get_user_model().objects.filter(username=user).first()
            if staff is None:
                raise CommandError(f"no user {user!r}")
        held = {}
        for item in filters:
            field, sep, value = item.partition("=")
            if not sep:
                raise CommandError(f"--filter {item!r}: write NAME=VALUE")
            held[field.strip()] = {"true": True, "false": False}.get(value.strip().lower(), value.strip())
        try:
            key, raw = api_key_create(name=name, scope=scope, rate=rate, allowed_origins=origins, filters=held,
                                      user=staff)  # fmt: skip
        except ApiKeyError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"created {key}\n{raw}\n(store it now: only its hash is kept)")

    def _list(self, **_):
        for key in ApiKey.objects.select_related("user"):
            state = f"revoked {key.revoked_at:%Y-%m-%d}" if key.revoked_at else "active"
            self.stdout.write(
                f"{key.pk}\t{key.prefix}…\t{key.scope}\t{state}\t{key.name}\trate={key.rate or 'default'}\t"
                f"origins={','.join(key.allowed_origins) or 'any'}\tfilters={json.dumps(key.filters)}\t"
                f"user={key.user.username if key.user else '-'}\tlast used={key.last_used_at or 'never'}"
            )

    def _revoke(self, *, key, **_):
        found = ApiKey.objects.filter(prefix=key.rstrip("…")).first() or (
            ApiKey.objects.filter(pk=int(key)).first() if key.isdigit() else None
        )
        if found is None:
            raise CommandError(f"no key {key!r}: give its prefix (ss_search_...) or id as `api_keys list` shows")
        api_key_revoke(key=found)
        self.stdout.write(f"revoked {found}")
