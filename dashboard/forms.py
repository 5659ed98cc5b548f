"""Input of the staff pages: operation buttons, the analytics date range and the playground's search."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from django import forms
from django.conf import settings
from django.utils import timezone

from search.ranking import SIGNALS

DEFAULT_RANGE_DAYS = 7


class OperationForm(forms.Form):
    action = forms.ChoiceField(choices=[(a, a) for a in ("train", "build", "activate", "rollback")])
    generation = forms.IntegerField(required=False, min_value=1)
    image_weight = forms.FloatField(required=False, min_value=0, max_value=100)
    text_weight = forms.FloatField(required=False, min_value=0, max_value=100)
    train = forms.BooleanField(required=False)
    activate = forms.BooleanField(required=False)

    def clean(self):
        data = super().clean()
        if data.get("action") == "activate" and not data.get("generation"):
            raise forms.ValidationError("choose a generation to activate")
        return data


class DateRangeForm(forms.Form):
    start = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end and start > end:
            raise forms.ValidationError("the start must not be after the end")
        return data

    def bounds(self) -> tuple[date, date, datetime, datetime]:
        """(first day, last day, start, end) with ``start <= created_at < end`` in UTC; the last 7 days when
        nothing (or something invalid) was chosen."""
        data = self.cleaned_data if self.is_valid() else {}
        last = data.get("end") or timezone.now().date()
        first = data.get("start") or last - timedelta(days=DEFAULT_RANGE_DAYS - 1)
        start = datetime.combine(first, time.min, tzinfo=UTC)
        end = datetime.combine(last + timedelta(days=1), time.min, tzinfo=UTC)
        return first, last, start, end


class PlaygroundForm(forms.Form):
    """A search as the storefront would send it, plus fusion overrides for this query only."""

    q = forms.CharField(required=False, max_length=settings.SEARCH_MAX_QUERY_LENGTH, label="Query")
    photo = forms.ImageField(required=False, help_text="search by photo (the query text, if any, refines it)")
    category = forms.CharField(required=False, max_length=512)
    brand = forms.CharField(required=False, max_length=120)
    price_min = forms.DecimalField(required=False, min_value=0, max_digits=12, decimal_places=2)
    price_max = forms.DecimalField(required=False, min_value=0, max_digits=12, decimal_places=2)
    in_stock = forms.NullBooleanField(required=False, widget=forms.Select(
        choices=[("unknown", "any"), ("true", "in stock"), ("false", "out of stock")]
    ))  # fmt: skip
    attributes = forms.CharField(required=False, max_length=500, help_text="e.g. color=Black, size=M")
    fusion = forms.ChoiceField(required=False, choices=[("", "default"), ("weighted", "weighted"), ("rrf", "rrf")])
    compare_rules = forms.BooleanField(
        required=False, label="with and without the shop's rules and synonyms, side by side"
    )
    preview_rule = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        defaults = settings.SEARCH_SIGNAL_WEIGHTS
        for signal in SIGNALS:
            self.fields[f"w_{signal}"] = forms.FloatField(
                required=False, min_value=0, max_value=100, label=signal.replace("_", " "),
                widget=forms.NumberInput(attrs={"step": "0.1", "placeholder": f"{defaults[signal]:g}"}),
            )  # fmt: skip

    def clean_attributes(self) -> list[tuple[str, str]]:
        pairs = []
        for part in self.cleaned_data["attributes"].split(","):
            if not part.strip():
                continue
            name, sep, value = part.partition("=")
            if not sep or not name.strip() or not value.strip():
                raise forms.ValidationError(f"{part.strip()!r} is not name=value")
            pairs.append((name.strip(), value.strip()))
        return pairs

    def search_params(self) -> dict[str, list[str]]:
        """The search API's parameters (what ``search.apis.parse_search_params`` validates), blanks left out."""
        data = self.cleaned_data
        params: dict[str, list[str]] = {}
        for key in ("q", "category", "brand", "price_min", "price_max", "fusion"):
            if data.get(key) not in (None, ""):
                params[key] = [str(data[key])]
        if data.get("in_stock") is not None:
            params["in_stock"] = ["true" if data["in_stock"] else "false"]
        for signal in SIGNALS:
            if data.get(f"w_{signal}") is not None:
                params[f"w_{signal}"] = [repr(data[f"w_{signal}"])]
        for name, value in data.get("attributes") or []:
            params.setdefault(name, []).append(value)
        return params

    @property
    def overrides_fusion(self) -> bool:
        return bool(self.cleaned_data.get("fusion")) or any(
            self.cleaned_data.get(f"w_{signal}") is not None for signal in SIGNALS
        )


class AttributeSettingForm(forms.Form):
    """One attribute's line of the facet setup page (``catalog.services.attribute_setup_save`` validates the rest)."""

    name = forms.CharField(max_length=100, widget=forms.HiddenInput)
    label = forms.CharField(max_length=100, required=False)
    position = forms.IntegerField(min_value=0, max_value=32767, widget=forms.NumberInput(attrs={"style": "width:70px"}))
    facet = forms.BooleanField(required=False)
    filterable = forms.BooleanField(required=False)
    sortable = forms.BooleanField(required=False)


AttributeSettingFormSet = forms.formset_factory(AttributeSettingForm, extra=0, max_num=1000, validate_max=True)
