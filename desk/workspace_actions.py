"""What staff do from the group workspace: send (preview first), pin, unpin, approve or reject a join request.

Each reuses the screen that already does it: the compose form, preview and send of the messages admin, the pin
confirmation (which says which pin a new one pushes out), the pins admin's unpin and the join-request admin's
approve and reject (reject asks its reason there). Here they are pointed at one group, confirmed before Meta is
called, and answer with the workspace. A GET of an action's URL (the confirmations' "No, take me back") goes back to
the workspace.
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


def _confirm(model_admin: admin.ModelAdmin, request: HttpRequest, group: Group, *, title: str, warning: str,
             objects: list, confirm_label: str) -> HttpResponse:
    context = {
        **model_admin.admin_site.each_context(request),
        "title": title, "warning": warning, "objects": objects, "confirm_label": confirm_label,
        "back_url": workspace_url(group), "opts": model_admin.model._meta, "group": group,
    }
    return TemplateResponse(request, "desk/workspace/confirm.html", context)


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
    response = pin_selected_messages(messages_admin, request, model.objects.filter(pk=message.pk))
    return response or HttpResponseRedirect(workspace_url(group, anchor="workspace-conversation"))


def unpin_view(model_admin: admin.ModelAdmin, request: HttpRequest, object_id: str, pin_pk: int) -> HttpResponse:
    """Ask, then unpin one of the group's pins through the pins admin's action."""
    group = group_for(model_admin, request, object_id)
    if request.method != "POST":
        return HttpResponseRedirect(workspace_url(group))
    pins_admin = model_admin.admin_site.get_model_admin(Pin)
    if not pins_admin.has_unpin_permission(request):
        raise PermissionDenied
    pin = get_object_or_404(Pin.objects.select_related("target_message", "target_inbound"), group=group, pk=pin_pk)
    if request.POST.get("post") != "yes":
        target = pin.target_message or pin.target_inbound
        text = ((target.content or {}).get("body") if pin.target_message else getattr(target, "text", "")) or ""
        return _confirm(model_admin, request, group, title="Unpin this message?", confirm_label="Yes, unpin it",
                        warning="WhatsApp removes the pin for everyone in the group; pinning it again is a new pin.",
                        objects=[f"Pin #{pin.pk}: {text[:120] or pin.message_id}"])
    pins_admin.unpin_selected(request, Pin.objects.filter(pk=pin.pk))
    return HttpResponseRedirect(workspace_url(group, anchor="workspace-conversation"))


def decide_view(model_admin: admin.ModelAdmin, request: HttpRequest, object_id: str, join_request_pk: int,
                decision: str) -> HttpResponse:
    """Approve (after a confirmation) or reject (with the join-request admin's own confirmation) one request."""
    group = group_for(model_admin, request, object_id)
    if request.method != "POST" or decision not in ("approve", "reject"):
        return HttpResponseRedirect(workspace_url(group))
    requests_admin = model_admin.admin_site.get_model_admin(JoinRequest)
    if not requests_admin.has_decide_permission(request):
        raise PermissionDenied
    join_request = get_object_or_404(JoinRequest, group=group, pk=join_request_pk)
    queryset = JoinRequest.objects.filter(pk=join_request.pk)
    if decision == "reject":
        response = requests_admin.reject(request, queryset)
    elif request.POST.get("post") != "yes":
        response = _confirm(model_admin, request, group, title="Let this person in?", confirm_label="Yes, approve",
                            warning="Meta adds them to the group at once; they see every message from then on.",
                            objects=[str(join_request)])
    else:
        response = requests_admin.approve(request, queryset)
    return response or HttpResponseRedirect(workspace_url(group, anchor="workspace-members"))
