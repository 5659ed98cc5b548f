"""API keys in the admin: create one (its secret is shown once, on the page after saving), edit its name, rate,
origins and filters, revoke it. The secret itself is never stored, so it cannot be shown again."""

from django import forms
from django.contrib import admin, messages

from .models import ApiKey
from .services import ApiKeyError, api_key_revoke, api_key_secret_assign, api_key_settings_clean


class ApiKeyForm(forms.ModelForm):
    class Meta:
        model = ApiKey
        fields = ["name", "scope", "user", "rate", "allowed_origins", "filters"]

    def clean(self):
        data = super().clean()
        scope = data.get("scope") or (self.instance.scope if self.instance.pk else ApiKey.Scope.SEARCH)
        try:
            data.update(api_key_settings_clean(scope=scope, rate=data.get("rate", ""),
                                               allowed_origins=data.get("allowed_origins") or [],
                                               filters=data.get("filters") or {}))  # fmt: skip
        except ApiKeyError as exc:
            raise forms.ValidationError(str(exc)) from None
        user = data.get("user")
        if scope == ApiKey.Scope.ADMIN and (user is None or not user.is_staff or not user.is_active):
            raise forms.ValidationError("an admin key acts as an active staff user: choose one")
        return data


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    form = ApiKeyForm
    list_display = ("name", "scope", "key_start", "rate", "origins", "filters", "created_at", "last_used_at",
                    "is_active")  # fmt: skip
    list_filter = ("scope", ("revoked_at", admin.EmptyFieldListFilter))
    search_fields = ("name", "prefix")
    actions = ["revoke_selected"]

    def get_readonly_fields(self, request, obj=None):
        return ("scope", "user", "key_start", "created_at", "last_used_at", "revoked_at") if obj else ()

    def get_fields(self, request, obj=None):
        fields = ["name", "scope", "user", "rate", "allowed_origins", "filters"]
        return fields + ["key_start", "created_at", "last_used_at", "revoked_at"] if obj else fields

    def get_changeform_initial_data(self, request):
        return {"user": request.user.pk, **super().get_changeform_initial_data(request)}

    @admin.display(description="key")
    def key_start(self, key: ApiKey) -> str:
        return f"{key.prefix}…"

    @admin.display(description="allowed origins")
    def origins(self, key: ApiKey) -> str:
        return ", ".join(key.allowed_origins) or "any"

    @admin.display(boolean=True, description="active")
    def is_active(self, key: ApiKey) -> bool:
        return key.active

    def save_model(self, request, obj, form, change):
        for name in ("rate", "allowed_origins", "filters"):
            setattr(obj, name, form.cleaned_data[name])
        if obj.scope != ApiKey.Scope.ADMIN:
            obj.user = None
        if change:
            obj.save()
            return
        raw = api_key_secret_assign(key=obj)
        obj.save()
        messages.warning(request, f"The new key {obj.name!r} is {raw} — copy it now: it is stored hashed and "
                                  "cannot be shown again.")  # fmt: skip

    @admin.action(description="Revoke selected keys (at once: their next request is a 401)")
    def revoke_selected(self, request, queryset):
        for key in queryset.filter(revoked_at=None):
            api_key_revoke(key=key)
        self.message_user(request, "Revoked.", messages.SUCCESS)
