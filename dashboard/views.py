"""Staff pages: embedding operations (with live job progress), search analytics, the search playground, the
catalog quality report and the facet setup (with the documents' refresh progress).

HTTP only: reads come from selectors (``embeddings.selectors``, ``search.analytics``, ``search.playground``,
``quality.selectors``), operations from the embedding services and the quality task. Every view is wrapped by
``ShopAdminSite.admin_view`` (staff only, CSRF on POST); state changes are POST only.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.http.request import QueryDict
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.views.decorators.http import require_GET, require_POST
from rest_framework.exceptions import ValidationError as ApiValidationError

from catalog.models import Product
from catalog.photos import PhotoError, open_checked
from embeddings.models import EmbeddingGeneration, Job
from embeddings.queries import photo_query
from embeddings.selectors import active_generation, generation_photo_vectors_exist, generations_overview, jobs_recent
from embeddings.services.generations import GenerationError, generation_activate, generation_rollback
from embeddings.services.operations import job_start
from quality.models import Finding
from quality.selectors import dismissals_recent, finding_counts, findings_list, report_latest
from quality.services import dismissal_create, dismissal_restore
from quality.tasks import build_quality_report_task
from search import analytics as search_analytics
from search.apis import parse_search_params
from search.match_set import thresholds_overview
from search.playground import RulesComparison, rules_compare, search_compare
from search.ranking import SIGNALS
from search.selectors import NoActiveGeneration
from search.types import SearchQuery

from .charts import Series, bar_chart
from .forms import AttributeSettingFormSet, DateRangeForm, OperationForm, PlaygroundForm


def _page(request: HttpRequest, template: str, title: str, **context) -> TemplateResponse:
    return TemplateResponse(request, template, {**admin.site.each_context(request), "title": title, **context})


# --- embedding operations ----------------------------------------------------------------------------------


def job_payload(job: Job) -> dict:
    return {
        "id": job.pk,
        "kind": job.kind,
        "label": job.get_kind_display(),
        "state": job.state,
        "percent": job.percent,
        "eta_seconds": None if job.eta_seconds is None else round(job.eta_seconds, 1),
        "done": job.done,
        "total": job.total,
        "message": job.message,
        "error": job.error,
        "generation": job.generation_id,
        "head": job.head_id,
        # A build's chunks, summed over the worker processes sharing it (``jobs_recent`` attaches them).
        "chunks": job.chunks.as_dict() if getattr(job, "chunks", None) else None,
        "created_at": job.created_at.isoformat(),
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
    }


@require_GET
def operations(request: HttpRequest) -> TemplateResponse:
    generations = generations_overview()
    for generation in generations:
        generation.thresholds = thresholds_overview(generation)
    jobs = jobs_recent()
    return _page(
        request,
        "admin/dashboard/operations.html",
        "Embedding operations",
        generations=generations,
        jobs=jobs,
        jobs_json=[job_payload(job) for job in jobs],
        product_total=Product.objects.count(),
        stale_count=Product.objects.filter(embeddings_stale=True, embedding_error="").count(),
        failed_count=Product.objects.exclude(embedding_error="").count(),
        can_rollback=any(g.state == EmbeddingGeneration.State.READY and g.activated_at for g in generations),
        form=OperationForm(),
    )


@require_POST
def operations_run(request: HttpRequest) -> HttpResponse:
    form = OperationForm(request.POST)
    if not form.is_valid():
        messages.error(request, "; ".join(e for errors in form.errors.values() for e in errors))
        return redirect("admin:operations")
    data = form.cleaned_data
    action = data["action"]
    try:
        if action == "train":
            job = job_start(kind=Job.Kind.TRAIN)
            messages.success(request, f"Training job #{job.pk} queued.")
        elif action == "build":
            options = {"activate": data["activate"], "train": data["train"]}
            for key in ("image_weight", "text_weight"):
                if data.get(key) is not None:
                    options[key] = data[key]
            job = job_start(kind=Job.Kind.BUILD, options=options)
            messages.success(request, f"Build job #{job.pk} queued.")
        elif action == "activate":
            generation = EmbeddingGeneration.objects.filter(pk=data["generation"]).first()
            if generation is None:
                raise GenerationError(f"there is no generation {data['generation']}")
            messages.success(request, f"Generation {generation_activate(generation=generation).pk} is active.")
        else:
            messages.success(request, f"Rolled back: generation {generation_rollback().pk} is active.")
    except GenerationError as exc:
        messages.error(request, str(exc))
    return redirect("admin:operations")


@require_GET
def jobs_status(request: HttpRequest) -> JsonResponse:
    """What the operations page polls: the recent jobs with their progress (from the Job rows)."""
    jobs = jobs_recent()
    return JsonResponse({
        "jobs": [job_payload(job) for job in jobs],
        "active": any(job.state in (Job.State.QUEUED, Job.State.RUNNING) for job in jobs),
    })  # fmt: skip


# --- search analytics ----------------------------------------------------------------------------------------


@require_GET
def analytics(request: HttpRequest) -> TemplateResponse:
    form = DateRangeForm(request.GET or None)
    first, last, start, end = form.bounds()
    summary = search_analytics.search_summary(start=start, end=end)
    unit, buckets = search_analytics.searches_over_time(start=start, end=end)
    label_format = "%H:%M" if unit == "hour" else "%b %d"
    timeline = bar_chart(
        [bucket.start.strftime(label_format) for bucket in buckets],
        [Series("searches", [b.searches for b in buckets], "#0969da"),
         Series("zero results", [b.zero_results for b in buckets], "#cf222e")],
        title=f"Searches per {unit}",
    )  # fmt: skip
    latency = bar_chart(
        ["p50", "p95", "p99"],
        [Series("latency", [summary.latency_p50 or 0, summary.latency_p95 or 0, summary.latency_p99 or 0], "#8250df")],
        title="Latency percentiles",
        unit=" ms",
    )
    health = search_analytics.joint_space_health(start=start, end=end)
    health_days = search_analytics.joint_space_health_by_day(start=start, end=end)
    health_chart = bar_chart(
        [day.day.strftime("%b %d") for day in health_days],
        [Series("text queries", [d.text_not_covered_percent or 0 for d in health_days], "#bc4c00"),
         Series("photo queries", [d.photo_not_covered_percent or 0 for d in health_days], "#8250df")],
        title="Searches the catalog does not cover, per day",
        unit=" %",
    ) if health else None  # fmt: skip
    return _page(
        request,
        "admin/dashboard/analytics.html",
        "Search analytics",
        health=health,
        health_days=[day for day in health_days if day.eventful],
        health_chart=health_chart,
        form=DateRangeForm(initial={"start": first, "end": last}) if not form.is_bound else form,
        first=first,
        last=last,
        summary=summary,
        top=search_analytics.top_queries(start=start, end=end),
        zero=search_analytics.zero_result_queries(start=start, end=end),
        low_ctr=search_analytics.low_click_through_queries(start=start, end=end),
        low_ctr_min=search_analytics.LOW_CTR_MIN_SEARCHES,
        timeline=timeline,
        latency=latency,
        unit=unit,
    )


# --- search playground ---------------------------------------------------------------------------------------


def playground(request: HttpRequest) -> TemplateResponse:
    """GET: a text search (the URL can be shared); POST: the same with a photo upload."""
    if request.method not in ("GET", "POST"):
        return HttpResponse(status=405)
    bound = request.method == "POST" or bool(request.GET)
    form = PlaygroundForm(request.POST if request.method == "POST" else request.GET, request.FILES or None) \
        if bound else PlaygroundForm()  # fmt: skip
    comparison = None
    if bound and form.is_valid():
        comparison = _playground_search(request, form)
    return _page(
        request,
        "admin/dashboard/playground.html",
        "Search playground",
        form=form,
        comparison=None if isinstance(comparison, RulesComparison) else comparison,
        rules_comparison=comparison if isinstance(comparison, RulesComparison) else None,
        signals=SIGNALS,
        weight_fields=[form[f"w_{signal}"] for signal in SIGNALS],
    )


def _playground_search(request: HttpRequest, form: PlaygroundForm):
    data = QueryDict(mutable=True)
    for key, values in form.search_params().items():
        data.setlist(key, values)
    try:
        params, filters, fusion = parse_search_params(request, data)
    except ApiValidationError as exc:
        detail = exc.detail if isinstance(exc.detail, dict) else {"search": exc.detail}
        for field, errors in detail.items():
            form.add_error(None, f"{field}: {' '.join(str(e) for e in errors)}")
        return None
    generation = active_generation()
    photo = None
    upload = form.cleaned_data.get("photo")
    if upload is not None:
        if generation is None or not generation_photo_vectors_exist(generation):
            form.add_error("photo", "photo search is unavailable: the active generation has no photo vectors")
            return None
        try:
            image = open_checked(upload.read())
        except PhotoError as exc:
            form.add_error("photo", str(exc))
            return None
        photo = photo_query(generation, image, params["q"])
    query = SearchQuery(text=params["q"], filters=filters, photo=photo)
    try:
        preview_rule = form.cleaned_data.get("preview_rule")
        if form.cleaned_data.get("compare_rules") or preview_rule:
            return rules_compare(query=query, generation=generation, preview_rule=preview_rule)
        return search_compare(query=query, generation=generation, fusion=fusion)
    except NoActiveGeneration as exc:
        form.add_error(None, str(exc))
        return None


# --- autocomplete suggestions ------------------------------------------------------------------------------------


@require_GET
def suggestions(request: HttpRequest) -> TemplateResponse:
    """The popular queries autocomplete counts (offered, hidden, too rare, without results), and what it suggests
    for a text the merchandiser types."""
    from django.conf import settings

    from search.suggest import SUGGEST_MAX_QUERY_LENGTH, fold, query_suggestions_overview, suggest

    q = request.GET.get("q", "")[:SUGGEST_MAX_QUERY_LENGTH]
    return _page(
        request,
        "admin/dashboard/suggestions.html",
        "Autocomplete suggestions",
        q=q,
        preview=suggest(q, product_limit=4) if fold(q) else None,
        rows=query_suggestions_overview(),
        min_searches=settings.SEARCH_SUGGEST_MIN_SEARCHES,
        window_days=settings.SEARCH_SUGGEST_WINDOW_DAYS,
        max_length=SUGGEST_MAX_QUERY_LENGTH,
    )


@require_POST
def suggestions_hide(request: HttpRequest) -> HttpResponse:
    """Hide a text from the suggestions (``hidden=1``) or offer it again (``hidden=0``)."""
    from urllib.parse import urlencode

    from django.urls import reverse

    from search.suggest import query_suggestion_hide

    text, hidden = request.POST.get("text", ""), request.POST.get("hidden", "1") != "0"
    try:
        suggestion = query_suggestion_hide(text=text, hidden=hidden)
    except ValueError as exc:
        messages.error(request, str(exc))
    else:
        verb = "is hidden from the suggestions" if hidden else "may be suggested again"
        messages.success(request, f"“{suggestion.query}” {verb}.")
    back = reverse("admin:suggestions")
    q = request.POST.get("q", "")
    return redirect(f"{back}?{urlencode({'q': q})}" if q else back)


@require_POST
def suggestions_refresh(request: HttpRequest) -> HttpResponse:
    from search.suggest import query_suggestions_refresh

    offered = query_suggestions_refresh()
    messages.success(request, f"Recounted from the search log: {offered} popular quer{'y' if offered == 1 else 'ies'} "
                              "offered.")  # fmt: skip
    return redirect("admin:suggestions")


# --- catalog quality -------------------------------------------------------------------------------------------

# Findings shown per page view (worst first); the command exports them all.
QUALITY_PAGE_FINDINGS = 200


@require_GET
def catalog_quality(request: HttpRequest) -> TemplateResponse:
    generation = active_generation()
    report = report_latest(generation)
    kind = request.GET.get("kind") if request.GET.get("kind") in Finding.Kind.values else ""
    findings = list(findings_list(report=report, kind=kind or None, limit=QUALITY_PAGE_FINDINGS)) if report else []
    for finding in findings:
        finding.changed_since = finding.product.content_version != finding.content_version
    return _page(
        request,
        "admin/dashboard/catalog_quality.html",
        "Catalog quality",
        generation=generation,
        report=report,
        counts=finding_counts(report) if report else {},
        kinds=Finding.Kind.choices,
        kind=kind,
        findings=findings,
        limit=QUALITY_PAGE_FINDINGS,
        dismissals=dismissals_recent(limit=QUALITY_PAGE_FINDINGS),
    )


@require_POST
def catalog_quality_run(request: HttpRequest) -> HttpResponse:
    generation = active_generation()
    if generation is None:
        messages.error(request, "There is no active generation to check.")
    else:
        transaction.on_commit(lambda: build_quality_report_task.delay(generation.pk))
        messages.success(request, f"The quality check of generation {generation.pk} is queued; reload in a while.")
    return redirect("admin:catalog-quality")


@require_POST
def catalog_quality_dismiss(request: HttpRequest, finding_id: int) -> HttpResponse:
    """Mark a listed finding as fine: it leaves the report, and later checks skip it while the product stays as
    it is."""
    finding = get_object_or_404(Finding.objects.select_related("product", "image", "other_product"), pk=finding_id)
    dismissal_create(finding=finding, by=request.user.get_username())
    messages.success(request, f"{finding.product.sku}: “{finding.get_kind_display()}” marked as fine; the check "
                              "lists it again if the product changes.")  # fmt: skip
    return redirect("admin:catalog-quality")


@require_POST
def catalog_quality_restore(request: HttpRequest, dismissal_id: int) -> HttpResponse:
    if not dismissal_restore(dismissal_id=dismissal_id):
        raise Http404("no such dismissal")
    messages.success(request, "No longer marked as fine: the next check lists it again if it still stands.")
    return redirect("admin:catalog-quality")


# --- facet setup -----------------------------------------------------------------------------------------------


def facet_setup(request: HttpRequest) -> HttpResponse:
    """GET: every attribute with its label, position and flags, the documents' refresh progress and whether they
    follow the text search configuration; POST: save the setup (``catalog.services.attribute_setup_save``)."""
    from catalog.selectors import attribute_setup_overview
    from catalog.services import AttributeSetupError, attribute_setup_save
    from search.documents import documents_current, refresh_progress, text_search_config

    if request.method not in ("GET", "POST"):
        return HttpResponse(status=405)
    overview = attribute_setup_overview()
    initial = [{"name": line.spec.name, "label": line.spec.label, "position": line.spec.position,
                "facet": line.spec.facet, "filterable": line.spec.filterable, "sortable": line.spec.sortable}
               for line in overview]  # fmt: skip
    if request.method == "POST":
        formset = AttributeSettingFormSet(request.POST)
        if formset.is_valid():
            try:
                attribute_setup_save(settings=[form.cleaned_data for form in formset.forms if form.cleaned_data])
            except AttributeSetupError as exc:
                messages.error(request, str(exc))
            else:
                messages.success(request, "Facet setup saved.")
                return redirect("admin:facet-setup")
    else:
        formset = AttributeSettingFormSet(initial=initial)
    lines = list(zip(overview, formset.forms, strict=False))  # a POST lists the attributes in the page's order
    return _page(
        request,
        "admin/dashboard/facet_setup.html",
        "Facet setup",
        formset=formset,
        lines=lines,
        progress=refresh_progress(),
        text_config=text_search_config(),
        documents_current=documents_current(),
    )


@require_GET
def facet_setup_progress(request: HttpRequest) -> JsonResponse:
    """What the facet setup page polls while the documents are refreshed."""
    from search.documents import refresh_progress

    return JsonResponse({"progress": refresh_progress()})


@require_POST
def facet_setup_rebuild(request: HttpRequest) -> HttpResponse:
    """Rebuild every search document (after ``SEARCH_TEXT_CONFIG`` changed): at once for a small catalog, else on
    the workers."""
    from search.documents import search_documents_refresh

    outcome = search_documents_refresh(facets_only=False)
    messages.success(request, "Search documents rebuilt." if outcome == "done" else "Rebuild queued; see below.")
    return redirect("admin:facet-setup")
