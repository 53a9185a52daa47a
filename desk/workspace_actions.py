"""What staff do from the group workspace: send (preview first), pin, unpin, retry a failed message, approve or
reject a join request.

Each reuses the screen that already does it: the compose form, preview and send of the messages admin, and the
admin actions pin (which says which pin a new one pushes out), unpin, retry, approve and reject, with their one
confirmation page (core.admin_confirm). Here they are pointed at one group, and the confirmation and the answer lead
back to the workspace. A GET of an action's URL goes back to the workspace.
"""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse

from desk.workspace import group_for, may, workspace_view
from groups.models import Group, JoinRequest
from messaging.admin import ComposeForm, compose_preview
from messaging.admin_pins import pin_selected_messages
from messaging.models import InboundMessage, OutboundMessage, Pin


def workspace_url(group: Group, *, anchor: str = "") -> str:
    return reverse("admin:groups_group_change", args=[group.pk]) + (f"#{anchor}" if anchor else "")


def asked_from(response: HttpResponse | None, *, crumbs: list[tuple[str, str]], back: str) -> HttpResponse | None:
    """Point a reused action's confirmation page (core.admin_confirm) at the page it was asked from: its
    breadcrumbs lead there and "No, take me back" returns to `back`."""
    if isinstance(response, TemplateResponse) and not response.is_rendered:
        response.context_data["crumbs"] = crumbs
        response.context_data["cancel_url"] = back
    return response


def _in_workspace(response: HttpResponse | None, group: Group) -> HttpResponse | None:
    """Point a reused action's confirmation page at the group's workspace."""
    crumbs = [(reverse("admin:groups_group_changelist"), "Groups"), (workspace_url(group), group.subject)]
    return asked_from(response, crumbs=crumbs, back=workspace_url(group))


def send_view(model_admin: admin.ModelAdmin, request: HttpRequest, object_id: str) -> HttpResponse:
    """Preview the composed message in the workspace; on Send, queue it to this group through the compose page's
    send (the service, the double-submit token and its messages)."""
    group = group_for(model_admin, request, object_id)
    if request.method != "POST":
        return HttpResponseRedirect(workspace_url(group))
    if not may(request)["send"]:
        raise PermissionDenied
    data = request.POST.copy()
    data.setlist("groups", [str(group.pk)])  # This group only, whatever was posted.
    form = ComposeForm(data)
    preview = None
    if form.is_valid():
        if "_send" in request.POST:
            model_admin.admin_site.get_model_admin(OutboundMessage).compose_send(request, form)
            return HttpResponseRedirect(workspace_url(group, anchor="workspace-compose"))
        preview = compose_preview(form)
    return workspace_view(model_admin, request, object_id, {"compose_form": form, "preview": preview})


def pin_view(model_admin: admin.ModelAdmin, request: HttpRequest, object_id: str, kind: str,
             message_pk: int) -> HttpResponse:
    """Pin one message of the group (ours or a participant's) through the pin confirmation and its action."""
    group = group_for(model_admin, request, object_id)
    if request.method != "POST":
        return HttpResponseRedirect(workspace_url(group))
    model = OutboundMessage if kind == "out" else InboundMessage
    message = get_object_or_404(model, group=group, pk=message_pk)
    messages_admin = model_admin.admin_site.get_model_admin(OutboundMessage)
    # The action reads only what both kinds carry (group, wamid, pk): a participant's message pins the same way.
    response = _in_workspace(pin_selected_messages(messages_admin, request, model.objects.filter(pk=message.pk)),
                             group)
    return response or HttpResponseRedirect(workspace_url(group, anchor="workspace-conversation"))


def _one_row_action(model_admin: admin.ModelAdmin, request: HttpRequest, object_id: str, *, model, pk: int,
                    allowed: str, action: str, anchor: str) -> HttpResponse:
    """Run a list action of `model`'s admin on one row of the group (the action asks first, on the one confirmation
    page, pointed back at the workspace); `allowed` names the admin's permission check."""
    group = group_for(model_admin, request, object_id)
    if request.method != "POST":
        return HttpResponseRedirect(workspace_url(group))
    rows_admin = model_admin.admin_site.get_model_admin(model)
    if not getattr(rows_admin, allowed)(request):
        raise PermissionDenied
    row = get_object_or_404(model, group=group, pk=pk)
    response = _in_workspace(getattr(rows_admin, action)(request, model.objects.filter(pk=row.pk)), group)
    return response or HttpResponseRedirect(workspace_url(group, anchor=anchor))


def unpin_view(model_admin: admin.ModelAdmin, request: HttpRequest, object_id: str, pin_pk: int) -> HttpResponse:
    """Unpin one of the group's pins through the pins admin's action."""
    return _one_row_action(model_admin, request, object_id, model=Pin, pk=pin_pk, allowed="has_unpin_permission",
                           action="unpin_selected", anchor="workspace-conversation")


def retry_view(model_admin: admin.ModelAdmin, request: HttpRequest, object_id: str, message_pk: int) -> HttpResponse:
    """Retry one failed message of the group through the messages list's action."""
    return _one_row_action(model_admin, request, object_id, model=OutboundMessage, pk=message_pk,
                           allowed="has_retry_permission", action="retry_failed", anchor="workspace-conversation")


def decide_view(model_admin: admin.ModelAdmin, request: HttpRequest, object_id: str, join_request_pk: int,
                decision: str) -> HttpResponse:
    """Approve or reject one request through the join-request admin's actions."""
    if decision not in ("approve", "reject"):
        return HttpResponseRedirect(workspace_url(group_for(model_admin, request, object_id)))
    return _one_row_action(model_admin, request, object_id, model=JoinRequest, pk=join_request_pk,
                           allowed="has_decide_permission", action=decision, anchor="workspace-members")
