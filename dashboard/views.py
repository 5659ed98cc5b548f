"""Staff pages: embedding operations (with live job progress), search analytics, the search playground and the
catalog quality report.

HTTP only: reads come from selectors (``embeddings.selectors``, ``search.analytics``, ``search.playground``,
``quality.selectors``), operations from the embedding services and the quality task. Every view is wrapped by
``ShopAdminSite.admin_view`` (staff only, CSRF on POST); state changes are POST only.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.request import QueryDict
from django.shortcuts import redirect
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
from quality.selectors import finding_counts, findings_list, report_latest
from quality.tasks import build_quality_report_task
from search import analytics as search_analytics
from search.apis import parse_search_params
from search.match_set import thresholds_overview
from search.playground import search_compare
from search.ranking import SIGNALS
from search.selectors import NoActiveGeneration
from search.types import SearchQuery

from .charts import Series, bar_chart
from .forms import DateRangeForm, OperationForm, PlaygroundForm


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
        comparison=comparison,
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
        return search_compare(query=query, generation=generation, fusion=fusion)
    except NoActiveGeneration as exc:
        form.add_error(None, str(exc))
        return None


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
