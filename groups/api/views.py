"""REST views of the groups app: one view per operation, each calling one service (CONTRACT §5)."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api import CursorPagination, ModelPermissions
from config.throttling import META_CALLS_SCOPE
from core.models import Source
from groups import selectors, services
from groups.api.filters import GroupFilter, JoinRequestFilter, ParticipantFilter
from groups.api.serializers import (
    FailedJoinRequestSerializer,
    FlatListField,
    GroupEventOutputSerializer,
    GroupOutputSerializer,
    InviteLinkOutputSerializer,
    JoinRequestOutputSerializer,
    ParticipantOutputSerializer,
    PhoneNumberOutputSerializer,
)
from groups.exceptions import GroupInputInvalid
from groups.models import Group, GroupEvent, JoinRequest, Participant, PhoneNumber
from groups.services.operation_inputs import PICTURE_MAX_BYTES

ERRORS = {
    400: OpenApiResponse(description="Invalid input: `extra.fields` names each offending field."),
    409: OpenApiResponse(description="The group is not active or is suspended: it accepts no changes."),
    502: OpenApiResponse(description="Meta refused or failed the call; `extra.meta_code` is Meta's code."),
}

GROUP_LIST_COLUMNS = (
    "id", "phone_number_id", "group_id", "subject", "description", "join_approval_mode", "invite_link", "state",
    "suspended", "participant_count", "last_error", "created_at", "updated_at",
)


class ChangePermission(ModelPermissions):
    """A POST action on an existing object needs the change permission (reads still need view)."""

    perms_map = {**ModelPermissions.perms_map, "POST": ["%(app_label)s.change_%(model_name)s"]}


def action_permission(method: str, perm: str, doc: str) -> type[ModelPermissions]:
    """Return a permission class where `method` needs exactly `perm` (a destructive action's own permission)."""
    return type(f"{perm.split('.')[-1].title().replace('_', '')}Permission", (ModelPermissions,),
                {"perms_map": {**ModelPermissions.perms_map, method: [perm]}, "__doc__": doc})


# Destructive actions need their own permission (issue 8): `change_group` alone must not allow them.
DeleteAtMetaPermission = action_permission("DELETE", "groups.delete_group_at_meta",
                                           "Deleting a group at Meta needs `groups.delete_group_at_meta`.")
ResetInviteLinkPermission = action_permission("POST", "groups.reset_invite_link",
                                              "Resetting the invite link needs `groups.reset_invite_link`.")
RemoveParticipantPermission = action_permission("POST", "groups.remove_participant",
                                                "Removing participants needs `groups.remove_participant`.")
DecideJoinRequestPermission = action_permission(
    "POST", "groups.decide_joinrequest", "Approving or rejecting join requests needs `groups.decide_joinrequest`."
)


class ReasonField(serializers.CharField):
    """The optional `reason` of a destructive action, written to the audit log."""

    def __init__(self, **kwargs):
        super().__init__(required=False, allow_blank=True, default="", max_length=2000,
                         help_text="Why: written to the audit log with the user and the time.", **kwargs)


class ReasonInputSerializer(serializers.Serializer):
    class Meta:
        ref_name = "ReasonInput"

    reason = ReasonField()


def _group(pk: int) -> Group:
    return get_object_or_404(selectors.group_list(), pk=pk)


# --- Phone numbers ---------------------------------------------------------------------------------


class PhoneNumberListCreateApi(GenericAPIView):
    queryset = PhoneNumber.objects.all()
    serializer_class = PhoneNumberOutputSerializer

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "PhoneNumberCreateInput"

        phone_number_id = serializers.RegexField(r"^\d{1,64}$", help_text="Meta's phone number ID.")
        display_phone_number = serializers.RegexField(r"^\+?\d{6,20}$")
        waba_id = serializers.RegexField(r"^\d{1,64}$")
        label = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")

    @extend_schema(operation_id="phone_numbers_list", responses=PhoneNumberOutputSerializer(many=True))
    def get(self, request):
        services.phone_number_register_configured()  # Lazily, for a setting added after migrate.
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(PhoneNumberOutputSerializer(page, many=True).data)

    @extend_schema(operation_id="phone_numbers_create", request=InputSerializer,
                   responses={201: PhoneNumberOutputSerializer, 400: ERRORS[400]})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        number = services.phone_number_create(**data.validated_data)
        return Response(PhoneNumberOutputSerializer(number).data, status=status.HTTP_201_CREATED)


# --- Groups ----------------------------------------------------------------------------------------


class GroupListCreateApi(GenericAPIView):
    queryset = Group.objects.select_related("phone_number")
    throttle_scope = META_CALLS_SCOPE
    serializer_class = GroupOutputSerializer
    filterset_class = GroupFilter

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "GroupCreateInput"

        phone_number = serializers.PrimaryKeyRelatedField(queryset=PhoneNumber.objects.all())
        subject = serializers.CharField(max_length=Group.SUBJECT_MAX_LENGTH)
        description = serializers.CharField(max_length=Group.DESCRIPTION_MAX_LENGTH, required=False,
                                            allow_blank=True, default="", trim_whitespace=False)
        join_approval_mode = serializers.ChoiceField(choices=Group.JoinApprovalMode.choices, required=False,
                                                     default=Group.JoinApprovalMode.AUTO_APPROVE)

    @extend_schema(operation_id="groups_list", responses=GroupOutputSerializer(many=True))
    def get(self, request):
        # Only the columns the output shows; it names the phone number by id: no join, no PhoneNumber per row.
        groups = self.filter_queryset(self.get_queryset()).select_related(None).only(*GROUP_LIST_COLUMNS)
        page = self.paginate_queryset(groups)
        return self.get_paginated_response(GroupOutputSerializer(page, many=True).data)

    @extend_schema(operation_id="groups_create", request=InputSerializer,
                   responses={202: GroupOutputSerializer, 400: ERRORS[400]},
                   description="Queue the creation at Meta: 202 with `state: creating`; the create webhook "
                               "makes it `active` (with `group_id` and `invite_link`) or `create_failed`.")
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        group = services.group_create(**data.validated_data, actor=request.user, source=Source.API)
        return Response(GroupOutputSerializer(group).data, status=status.HTTP_202_ACCEPTED)


class GroupDetailApi(APIView):
    queryset = Group.objects.all()
    permission_classes = [DeleteAtMetaPermission]
    throttle_scope = META_CALLS_SCOPE

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "GroupUpdateInput"

        subject = serializers.CharField(max_length=Group.SUBJECT_MAX_LENGTH, required=False)
        description = serializers.CharField(max_length=Group.DESCRIPTION_MAX_LENGTH, required=False,
                                            allow_blank=True, trim_whitespace=False)

        def validate(self, attrs):
            # Meta documents no way to change the approval mode after creation (spec §4.4): refuse it by name
            # rather than ignore it, so the caller never believes it changed.
            if "join_approval_mode" in self.initial_data:
                raise serializers.ValidationError(
                    {"join_approval_mode": ["It is set when the group is created and cannot be changed."]}
                )
            if not attrs:
                raise serializers.ValidationError({"subject": ["Give a subject or a description to change."]})
            return attrs

    @extend_schema(operation_id="groups_retrieve", responses=GroupOutputSerializer)
    def get(self, request, pk: int):
        return Response(GroupOutputSerializer(_group(pk)).data)

    @extend_schema(operation_id="groups_partial_update", request=InputSerializer,
                   responses={202: GroupOutputSerializer, 400: ERRORS[400], 409: ERRORS[409]},
                   description="Queue a subject/description change; applied when `group_settings_update` "
                               "reports success.")
    def patch(self, request, pk: int):
        group = _group(pk)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.group_settings_update(group=group, **data.validated_data, actor=request.user, source=Source.API)
        return Response(GroupOutputSerializer(_group(pk)).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(operation_id="groups_destroy", request=None,
                   parameters=[OpenApiParameter("reason", str, required=False,
                                                description="Why: written to the audit log.")],
                   responses={202: GroupOutputSerializer, 409: ERRORS[409]},
                   description="Queue the delete: 202 with `state: deleting`. Needs `groups.delete_group_at_meta`.")
    def delete(self, request, pk: int):
        reason = (request.query_params.get("reason") or "")[:2000]
        group = services.group_delete(group=_group(pk), actor=request.user, source=Source.API, reason=reason)
        return Response(GroupOutputSerializer(group).data, status=status.HTTP_202_ACCEPTED)


class GroupInviteLinkApi(APIView):
    queryset = Group.objects.all()
    throttle_scope = META_CALLS_SCOPE
    meta_call_methods = ("GET", "HEAD")  # Reading the link asks Meta.

    @extend_schema(operation_id="groups_invite_link_retrieve",
                   responses={200: InviteLinkOutputSerializer, 409: ERRORS[409], 502: ERRORS[502]})
    def get(self, request, pk: int):
        link = services.group_invite_link_get(group=_group(pk))
        return Response({"invite_link": link})


class GroupInviteLinkResetApi(APIView):
    queryset = Group.objects.all()
    permission_classes = [ResetInviteLinkPermission]
    throttle_scope = META_CALLS_SCOPE

    @extend_schema(operation_id="groups_invite_link_reset", request=ReasonInputSerializer,
                   responses={200: InviteLinkOutputSerializer, 409: ERRORS[409], 502: ERRORS[502]},
                   description="Replace the invite link; every earlier link stops working. "
                               "Needs `groups.reset_invite_link`.")
    def post(self, request, pk: int):
        data = ReasonInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        link = services.group_invite_link_reset(group=_group(pk), actor=request.user, source=Source.API,
                                                reason=data.validated_data["reason"])
        return Response({"invite_link": link})


class GroupPictureApi(APIView):
    queryset = Group.objects.all()
    throttle_scope = META_CALLS_SCOPE
    permission_classes = [ChangePermission]
    parser_classes = [MultiPartParser, FormParser]

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "GroupPictureInput"

        file = serializers.FileField(help_text="JPEG, square, at least 192x192 px, at most 5 MB.")

    @extend_schema(operation_id="groups_picture_update", request={"multipart/form-data": InputSerializer},
                   responses={202: GroupOutputSerializer, 400: ERRORS[400], 409: ERRORS[409]})
    def post(self, request, pk: int):
        group = _group(pk)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        upload = data.validated_data["file"]
        if upload.size > PICTURE_MAX_BYTES:
            raise GroupInputInvalid(f"The picture is {upload.size} bytes; at most 5 MB is allowed.", field="file")
        services.group_picture_update(group=group, data=upload.read(), actor=request.user, source=Source.API)
        return Response(GroupOutputSerializer(_group(pk)).data, status=status.HTTP_202_ACCEPTED)


# --- Participants, join requests, events -----------------------------------------------------------


class GroupParticipantListApi(GenericAPIView):
    queryset = Participant.objects.all()
    serializer_class = ParticipantOutputSerializer
    filterset_class = ParticipantFilter

    @extend_schema(operation_id="groups_participants_list", responses=ParticipantOutputSerializer(many=True))
    def get(self, request, pk: int):
        page = self.paginate_queryset(self.filter_queryset(selectors.participant_list(group=_group(pk))))
        return self.get_paginated_response(ParticipantOutputSerializer(page, many=True).data)


class GroupParticipantsRemoveApi(APIView):
    queryset = Group.objects.all()
    permission_classes = [RemoveParticipantPermission]
    throttle_scope = META_CALLS_SCOPE

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "GroupParticipantsRemoveInput"

        participants = FlatListField(
            child=serializers.CharField(max_length=160), min_length=1, max_length=Group.MAX_PARTICIPANTS,
            help_text="1-8 people, each once: phone numbers (wa_id, up to 15 digits, with or without +), "
                      "business-scoped user IDs (US.1349…) or parent BSUIDs (US.ENT.1181…).",
        )
        reason = ReasonField()

    @extend_schema(operation_id="groups_participants_remove", request=InputSerializer,
                   responses={202: GroupOutputSerializer, 400: ERRORS[400], 409: ERRORS[409]})
    def post(self, request, pk: int):
        group = _group(pk)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.group_participants_remove(group=group, participants=data.validated_data["participants"],
                                           actor=request.user, source=Source.API,
                                           reason=data.validated_data["reason"])
        return Response(GroupOutputSerializer(_group(pk)).data, status=status.HTTP_202_ACCEPTED)


class GroupJoinRequestListApi(GenericAPIView):
    queryset = JoinRequest.objects.all()
    serializer_class = JoinRequestOutputSerializer
    filterset_class = JoinRequestFilter

    @extend_schema(operation_id="groups_join_requests_list", responses=JoinRequestOutputSerializer(many=True))
    def get(self, request, pk: int):
        page = self.paginate_queryset(self.filter_queryset(selectors.join_request_list(group=_group(pk))))
        return self.get_paginated_response(JoinRequestOutputSerializer(page, many=True).data)


class _JoinRequestDecisionApi(APIView):
    queryset = JoinRequest.objects.all()
    throttle_scope = META_CALLS_SCOPE
    permission_classes = [DecideJoinRequestPermission]
    approve = True

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "JoinRequestDecisionInput"

        join_request_ids = FlatListField(child=serializers.CharField(max_length=255), min_length=1)
        reason = ReasonField()

    def post(self, request, pk: int):
        group = _group(pk)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        decide = services.join_requests_approve if self.approve else services.join_requests_reject
        decision = decide(group=group, join_request_ids=data.validated_data["join_request_ids"], actor=request.user,
                          source=Source.API, reason=data.validated_data["reason"])
        key = "approved" if self.approve else "rejected"
        return Response({key: decision.done, "failed": decision.failed})


def _decision_schema(key: str):
    return inline_serializer(
        name=f"JoinRequests{key.capitalize()}Output",
        fields={key: serializers.ListField(child=serializers.CharField()),
                "failed": FailedJoinRequestSerializer(many=True)},
    )


class GroupJoinRequestsApproveApi(_JoinRequestDecisionApi):
    approve = True

    @extend_schema(operation_id="groups_join_requests_approve", request=_JoinRequestDecisionApi.InputSerializer,
                   responses={200: _decision_schema("approved"), 400: ERRORS[400], 409: ERRORS[409],
                              502: ERRORS[502]})
    def post(self, request, pk: int):
        return super().post(request, pk)


class GroupJoinRequestsRejectApi(_JoinRequestDecisionApi):
    approve = False

    @extend_schema(operation_id="groups_join_requests_reject", request=_JoinRequestDecisionApi.InputSerializer,
                   responses={200: _decision_schema("rejected"), 400: ERRORS[400], 409: ERRORS[409],
                              502: ERRORS[502]})
    def post(self, request, pk: int):
        return super().post(request, pk)


class TimelinePagination(CursorPagination):
    """A group's timeline reads by Meta's time of each event (webhooks arrive out of order), newest first."""

    ordering = ("-occurred_at", "-pk")


class GroupEventListApi(GenericAPIView):
    queryset = GroupEvent.objects.all()
    pagination_class = TimelinePagination
    serializer_class = GroupEventOutputSerializer
    filter_backends: list = []

    @extend_schema(operation_id="groups_events_list", responses=GroupEventOutputSerializer(many=True))
    def get(self, request, pk: int):
        page = self.paginate_queryset(selectors.group_event_list(group=_group(pk)))
        return self.get_paginated_response(GroupEventOutputSerializer(page, many=True).data)
