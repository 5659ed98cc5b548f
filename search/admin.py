"""Admin pages of the merchandisers' levers: synonym sets and query rules (list, search, edit). Every save and
delete takes effect at once, cached results included (``search.merchandising.merchandising_changed``); a rule's
page links to the playground, which shows a query's results with and without the rules side by side."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import admin
from django.db import models, transaction
from django.urls import reverse
from django.utils.html import format_html

from .merchandising import merchandising_changed
from .merchandising_apis import QueryRuleSerializer, SynonymSetSerializer
from .models import QueryRule, SynonymSet


class _TakesEffectAtOnce(admin.ModelAdmin):
    """Validates like the staff API and announces every change (after the commit)."""

    api_serializer: type

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        transaction.on_commit(merchandising_changed)

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        transaction.on_commit(merchandising_changed)

    def delete_queryset(self, request, queryset):
        super().delete_queryset(request, queryset)
        transaction.on_commit(merchandising_changed)

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        serializer_class = self.api_serializer

        class Checked(form):
            def clean(self):
                data = super().clean()
                fields = {name: value for name, value in data.items() if name in serializer_class.Meta.fields}
                checked = serializer_class(instance=self.instance if self.instance.pk else None, data=_plain(fields),
                                           partial=True)  # fmt: skip
                if not checked.is_valid():
                    for name, errors in checked.errors.items():
                        self.add_error(name if name in self.fields else None, " ".join(map(str, _flat(errors))))
                return data

        return Checked


def _plain(fields: dict) -> dict:
    return {name: value for name, value in fields.items() if value is not None}


def _flat(errors):
    if isinstance(errors, dict):
        return [f"{key}: {' '.join(map(str, _flat(value)))}" for key, value in errors.items()]
    if isinstance(errors, list):
        return [item for error in errors for item in _flat(error)]
    return [errors]


@admin.register(SynonymSet)
class SynonymSetAdmin(_TakesEffectAtOnce):
    api_serializer = SynonymSetSerializer
    list_display = ["__str__", "root", "enabled", "updated_at"]
    list_filter = ["enabled"]
    search_fields = ["root", "note"]
    fields = ["terms", "root", "enabled", "note"]


@admin.register(QueryRule)
class QueryRuleAdmin(_TakesEffectAtOnce):
    api_serializer = QueryRuleSerializer
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_display = ["name", "match", "pattern", "category", "enabled", "in_window", "priority", "preview"]
    list_filter = ["enabled", "match"]
    search_fields = ["name", "pattern", "category"]
    readonly_fields = ["preview"]
    fieldsets = [
        (None, {"fields": ["name", "enabled", "priority", ("starts_at", "ends_at"), "preview"]}),
        ("When", {"fields": ["match", "pattern", "category", "filter_present"]}),
        ("Then", {"fields": ["pins", "hides", "boosts", "add_filters", "replace_query", "redirect_url"]}),
    ]

    @admin.display(boolean=True, description="in its window now")
    def in_window(self, rule: QueryRule) -> bool:
        from django.utils import timezone

        now = timezone.now()
        return (rule.starts_at is None or rule.starts_at <= now) and (rule.ends_at is None or now < rule.ends_at)

    @admin.display(description="preview")
    def preview(self, rule: QueryRule) -> str:
        if not rule.pk:
            return "save the rule to preview it"
        query = rule.pattern if rule.match in ("equals", "contains") else ""
        params = {"q": query, "preview_rule": rule.pk, "category": rule.category}
        url = reverse("admin:playground") + "?" + urlencode({k: v for k, v in params.items() if v != ""})
        return format_html('<a href="{}">before / after in the playground</a>', url)
