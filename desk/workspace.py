"""The group workspace: the page staff live in (header, conversation, compose, members, timeline).

It is the group's admin page (`/admin/groups/group/<id>/change/`, `DeskGroupAdmin.change_view`); the stock form is
"Edit settings" (`<id>/settings/`). Each region is one template partial served alone by its own URL
(`<id>/workspace/<region>/`), so a live refresh swaps one region without reloading the page or losing a draft.
"""

import uuid
from datetime import datetime

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.http import urlencode

from core.admin_links import admin_link
from core.meta_errors import MetaError
from desk import selectors
from desk.live import live_answer, live_unchanged
from desk.live_workspace import workspace_versions
from desk.sentences import People, event_sentence, operation_sentence
from groups.admin_confirm import group_last_error_html
from groups.admin_timeline import event_who
from groups.models import Group, JoinRequest, Participant
from messaging.admin import ComposeForm
from messaging.admin_pins import pin_time_left

REGIONS = ("header", "conversation", "members", "timeline")


def group_for(model_admin: admin.ModelAdmin, request: HttpRequest, object_id) -> Group:
    """Return the group the user may see, or raise Http404 / PermissionDenied as the admin's own pages do."""
    if not str(object_id).isdigit():
        raise Http404("No such group.")
    group = get_object_or_404(Group.objects.select_related("phone_number", "created_by"), pk=object_id)
    if not model_admin.has_view_or_change_permission(request, group):
        raise PermissionDenied
    return group


def may(request: HttpRequest) -> dict[str, bool]:
    """What this user may see and do on the workspace (each matching the permission of the page it reuses)."""
    has = request.user.has_perm
    return {
        "see_messages": has("messaging.view_outboundmessage"),
        "send": has("messaging.add_outboundmessage"),
        "pin": has("messaging.add_pin"),
        "unpin": has("messaging.change_pin"),
        "retry": has("messaging.add_outboundmessage"),
        "decide": has("groups.decide_joinrequest"),
        "edit": has("groups.change_group"),
    }


def _before(request: HttpRequest) -> datetime | None:
    value = request.GET.get("before") or ""
    try:
        before = parse_datetime(value)
    except ValueError:
        return None
    if before is not None and timezone.is_naive(before):
        before = timezone.make_aware(before)
    return before


def _error_code(errors: list | None) -> str:
    meta_error = MetaError.from_value(errors[0]) if errors else None
    return meta_error.code_text if meta_error else ""


def region_context(region: str, *, request: HttpRequest, group: Group, people: list[Participant]) -> dict:
    """Return what one region's partial shows; each region reads only its own rows."""
    allowed = may(request)
    if region == "header":
        return {"max_participants": Group.MAX_PARTICIPANTS, "last_error_html": group_last_error_html(group)}
    if region == "conversation":
        if not allowed["see_messages"]:
            return {"conversation": None}
        pins = selectors.workspace_pins(group=group)
        for pin in pins:
            pin.time_left = pin_time_left(pin)
            pin.excerpt = selectors.pin_excerpt(pin)
        before = _before(request)
        conversation = selectors.workspace_conversation(group=group, people=people, pins=pins, before=before)
        return {"conversation": conversation, "pins": pins, "before": before}
    if region == "members":
        join_requests = selectors.workspace_join_requests(group=group)
        pending = [r for r in join_requests if r.state == JoinRequest.State.PENDING]
        return {"people": people, "join_requests": join_requests, "pending_count": len(pending)}
    if region == "timeline":
        names = People(people)
        events = selectors.workspace_timeline(group=group)
        return {
            "operations": [(op, operation_sentence(op, names), _error_code(op.errors))
                           for op in selectors.workspace_operations(group=group)],
            # Oldest first, as the conversation reads; the newest page of a long timeline.
            "events": [(event, event_sentence(event, names), event_who(event)) for event in reversed(events)],
            "events_more": len(events) == selectors.TIMELINE_LIMIT,
            "all_events_url": reverse("admin:groups_groupevent_changelist") + f"?group__id__exact={group.pk}",
            "catalog_url": admin_link("error_catalog"),
        }
    raise Http404(f"No region {region!r}.")


def _region_urls(request: HttpRequest, group: Group) -> dict[str, str]:
    urls = {r: reverse("admin:groups_group_workspace_region", args=[group.pk, r]) for r in REGIONS}
    if request.GET.get("before"):  # A refresh of an older page of the conversation keeps that page.
        urls["conversation"] += "?" + urlencode({"before": request.GET["before"]})
    return urls


def workspace_context(model_admin: admin.ModelAdmin, request: HttpRequest, group: Group, *,
                      regions: tuple[str, ...] = REGIONS) -> dict:
    """Return the context of the workspace page (every region) or of one region's fragment."""
    people = selectors.workspace_participants(group=group)
    context = {
        "group": group,
        "may": may(request),
        "opts": model_admin.model._meta,
        "region_urls": _region_urls(request, group),
    }
    for region in regions:
        context.update(region_context(region, request=request, group=group, people=people))
    return context


def workspace_view(model_admin: admin.ModelAdmin, request: HttpRequest, object_id: str,
                   extra_context: dict | None = None) -> HttpResponse:
    """Render the whole workspace; `extra_context` carries the composer's form and preview after a POST."""
    group = group_for(model_admin, request, object_id)
    context = {
        **model_admin.admin_site.each_context(request),
        **workspace_context(model_admin, request, group),
        "title": group.subject,
        "subtitle": "Group workspace",
        **(extra_context or {}),
    }
    context["live_versions"] = workspace_versions(group_id=group.pk, regions=REGIONS, before=_before(request))
    if "compose_form" not in context and context["may"]["send"]:
        context["compose_form"] = ComposeForm(initial={"groups": [group.pk], "type": "text",
                                                       "token": uuid.uuid4().hex})
    return TemplateResponse(request, "desk/workspace/page.html", context)


def region_view(model_admin: admin.ModelAdmin, request: HttpRequest, object_id: str, region: str) -> HttpResponse:
    """Render one region alone (the fragment a live refresh swaps in)."""
    if region not in REGIONS:
        raise Http404(f"No region {region!r}.")
    group = group_for(model_admin, request, object_id)
    # A live poll (desk/live.py) whose region is current costs this one query and a 204.
    versions = workspace_versions(group_id=group.pk, regions=(region,), before=_before(request))
    if unchanged := live_unchanged(request, versions[region]):
        return unchanged
    context = {**workspace_context(model_admin, request, group, regions=(region,)), "live_versions": versions}
    return live_answer(request, TemplateResponse(request, f"desk/workspace/{region}.html", context), versions[region])
