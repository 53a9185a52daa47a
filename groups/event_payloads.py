"""Outbound events of groups' objects: the type a join request's state reports, and how each object is shown (as
the REST API does; registered with the outbox at start-up)."""

from django.utils import timezone

from config.api import datetime_iso
from groups.models import JoinRequest
from outbox import event_types
from outbox.registry import renderer_register

JOIN_REQUEST_EVENTS = {
    JoinRequest.State.PENDING: event_types.GROUP_JOIN_REQUEST_CREATED,
    JoinRequest.State.APPROVED: event_types.GROUP_JOIN_REQUEST_APPROVED,
    JoinRequest.State.REJECTED: event_types.GROUP_JOIN_REQUEST_REJECTED,
    JoinRequest.State.REVOKED: event_types.GROUP_JOIN_REQUEST_REVOKED,
}


def _with_group(serializer_class):
    """Return a renderer adding the group's id: the REST API lists these objects under their group's URL."""
    serializer = serializer_class()

    def render(obj) -> dict:
        return {**serializer.to_representation(obj), "group": obj.group_id}

    return render


def _operation(operation) -> dict:
    output_timezone = timezone.get_current_timezone()

    def iso(value):
        return datetime_iso(value, output_timezone) if value else None

    return {
        "id": operation.pk, "group": operation.group_id, "kind": operation.kind, "state": operation.state,
        "request_id": operation.request_id, "requested": operation.requested, "outcome": operation.outcome,
        "errors": operation.errors, "created_at": iso(operation.created_at), "sent_at": iso(operation.sent_at),
        "completed_at": iso(operation.completed_at),
    }


def register_event_renderers() -> None:
    """Register the REST representation of groups, participants, join requests and operations with the outbox."""
    from groups.api.serializers import GroupOutputSerializer, JoinRequestOutputSerializer, ParticipantOutputSerializer
    from groups.models import Group, GroupOperation, JoinRequest, Participant

    renderer_register(Group, object_type="group", render=GroupOutputSerializer().to_representation)
    renderer_register(Participant, object_type="participant", render=_with_group(ParticipantOutputSerializer))
    renderer_register(JoinRequest, object_type="join_request", render=_with_group(JoinRequestOutputSerializer))
    renderer_register(GroupOperation, object_type="group_operation", render=_operation)
