"""Groups data: phone numbers, groups, participants, join requests, operations, events."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from core.kinds import timeline_type_choices
from core.models import Source, TimeStamped
from core.people import person_label


class PhoneNumber(TimeStamped):
    """A business phone number registered on Cloud API; it owns its groups."""

    phone_number_id = models.CharField(max_length=64, unique=True, help_text="Meta's phone number ID.")
    display_phone_number = models.CharField(max_length=32)
    waba_id = models.CharField("WABA ID", max_length=64)
    label = models.CharField(max_length=100, blank=True)
    throughput_per_second = models.PositiveIntegerField(
        default=80, help_text="Messages per second Meta allows this number (80 unless upgraded)."
    )

    class Meta:
        ordering = ["display_phone_number"]

    def __str__(self) -> str:
        return f"{self.label} (+{self.display_phone_number})" if self.label else f"+{self.display_phone_number}"


class Group(TimeStamped):
    """A WhatsApp group owned by one of our phone numbers (CONTRACT §5 "Groups")."""

    class State(models.TextChoices):
        CREATING = "creating", "Creating"
        ACTIVE = "active", "Active"
        CREATE_FAILED = "create_failed", "Create failed"
        DELETING = "deleting", "Deleting"
        DELETED = "deleted", "Deleted"

    class JoinApprovalMode(models.TextChoices):
        AUTO_APPROVE = "auto_approve", "Anyone with the link joins"
        APPROVAL_REQUIRED = "approval_required", "An admin approves each request"

    MAX_PARTICIPANTS = 8
    SUBJECT_MAX_LENGTH = 128
    DESCRIPTION_MAX_LENGTH = 2048

    phone_number = models.ForeignKey(PhoneNumber, on_delete=models.PROTECT, related_name="groups")
    # Opaque, looks like base64; Meta gives no maximum, so leave generous room (spec §1.5).
    group_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    subject = models.CharField(max_length=SUBJECT_MAX_LENGTH)
    description = models.TextField(max_length=DESCRIPTION_MAX_LENGTH, blank=True)
    join_approval_mode = models.CharField(
        max_length=20, choices=JoinApprovalMode.choices, default=JoinApprovalMode.AUTO_APPROVE
    )
    invite_link = models.URLField(max_length=255, blank=True)
    state = models.CharField(max_length=20, choices=State.choices, default=State.CREATING, db_index=True)
    suspended = models.BooleanField(default=False, db_index=True)
    participant_count = models.PositiveSmallIntegerField(default=0)
    last_error = models.JSONField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Meta's time of the newest event applied to each aspect: older events never overwrite newer state.
    lifecycle_changed_at = models.DateTimeField(null=True, blank=True)
    suspension_changed_at = models.DateTimeField(null=True, blank=True)
    settings_changed_at = models.DateTimeField(null=True, blank=True)
    last_synced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["phone_number", "state"])]
        # Destructive actions get their own permissions: `change_group` alone must not allow them (issue 8).
        permissions = [
            ("delete_group_at_meta", "Can delete groups at Meta"),
            ("reset_invite_link", "Can reset or delete invite links"),
        ]

    def __str__(self) -> str:
        return self.subject

    @property
    def accepts_changes(self) -> bool:
        return self.state == self.State.ACTIVE and not self.suspended


class Participant(TimeStamped):
    """A person in a group, known by phone (`wa_id`) and/or business-scoped user ID (spec §5.7)."""

    class State(models.TextChoices):
        ACTIVE = "active", "Active"
        LEFT = "left", "Left"
        REMOVED = "removed", "Removed"

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="participants")
    wa_id = models.CharField(max_length=32, null=True, blank=True)
    user_id = models.CharField("BSUID", max_length=160, null=True, blank=True)
    # Enterprise-wide BSUID (`US.ENT.…`, C1): a removal we asked by it names the person only by it.
    parent_user_id = models.CharField("parent BSUID", max_length=160, blank=True)
    username = models.CharField(max_length=128, blank=True)
    name = models.CharField(max_length=256, blank=True)
    # Meta's time of the item that last set parent_user_id, username and name: an older item arriving later only
    # fills what is still empty, so a renamed person keeps the newer name in any arrival order.
    profile_seen_at = models.DateTimeField(null=True, blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.ACTIVE, db_index=True)
    joined_at = models.DateTimeField(null=True, blank=True)
    left_at = models.DateTimeField(null=True, blank=True)
    # Meta's time of the event behind `state`: a late "joined" never undoes a newer "left".
    state_changed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["group", "pk"]
        permissions = [("remove_participant", "Can remove participants from groups")]
        constraints = [
            models.UniqueConstraint(
                fields=["group", "wa_id"], condition=Q(wa_id__isnull=False), name="participant_unique_wa_id"
            ),
            models.UniqueConstraint(
                fields=["group", "user_id"], condition=Q(user_id__isnull=False), name="participant_unique_user_id"
            ),
            models.CheckConstraint(
                condition=Q(wa_id__isnull=False) | Q(user_id__isnull=False), name="participant_has_identity"
            ),
        ]

    def __str__(self) -> str:
        return person_label(name=self.name, wa_id=self.wa_id, user_id=self.user_id)


class JoinRequest(TimeStamped):
    """A request to join an approval-required group."""

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"
        REVOKED = "revoked", "Revoked"

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="join_requests")
    join_request_id = models.CharField(max_length=255, unique=True)
    wa_id = models.CharField(max_length=32, null=True, blank=True)
    user_id = models.CharField("BSUID", max_length=160, null=True, blank=True)
    parent_user_id = models.CharField("parent BSUID", max_length=160, blank=True)
    username = models.CharField(max_length=128, blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING, db_index=True)
    requested_at = models.DateTimeField(null=True, blank=True, help_text="Meta's time of the request.")
    state_changed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        permissions = [("decide_joinrequest", "Can approve or reject join requests")]

    def __str__(self) -> str:
        return f"{person_label(wa_id=self.wa_id, user_id=self.user_id)} → {self.group}"


class GroupOperation(TimeStamped):
    """One asynchronous call to Meta about a group, and its outcome once known."""

    class Kind(models.TextChoices):
        CREATE = "create", "Create group"
        DELETE = "delete", "Delete group"
        UPDATE_SETTINGS = "update_settings", "Update subject/description"
        UPDATE_PICTURE = "update_picture", "Update picture"
        REMOVE_PARTICIPANTS = "remove_participants", "Remove participants"

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCEEDED = "succeeded", "Succeeded"
        PARTIALLY_FAILED = "partially_failed", "Partially failed"
        FAILED = "failed", "Failed"

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="operations")
    kind = models.CharField(max_length=30, choices=Kind.choices)
    request_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    state = models.CharField(max_length=20, choices=State.choices, default=State.PENDING, db_index=True)
    requested = models.JSONField(default=dict, blank=True, help_text="What was asked of Meta.")
    outcome = models.JSONField(default=dict, blank=True, help_text="The result per participant or per setting.")
    errors = models.JSONField(default=list, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.API)
    # A worker sets claimed_at before calling Meta, so a second delivery of the task never sends twice.
    claimed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True, help_text="When a retry of the call is due.")
    # The JPEG of an UPDATE_PICTURE operation until Meta has it (workers share no disk, the database they do).
    picture = models.BinaryField(null=True, blank=True, editable=False)
    sent_at = models.DateTimeField(null=True, blank=True, help_text="When Meta accepted the call.")
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["group", "kind", "state"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.get_state_display()})"


class GroupEvent(models.Model):
    """One entry of a group's timeline; written only by services.

    `Type` lists the groups app's own event types; apps above register theirs (messages, pins) in their
    `AppConfig.ready()`, so the timeline names nothing of them.
    """

    class Type(models.TextChoices):
        CREATE_REQUESTED = "create_requested", "Create requested"
        CREATED = "created", "Created"
        CREATE_FAILED = "create_failed", "Create failed"
        DELETE_REQUESTED = "delete_requested", "Delete requested"
        DELETED = "deleted", "Deleted"
        DELETE_FAILED = "delete_failed", "Delete failed"
        PARTICIPANT_JOINED = "participant_joined", "Participant joined"
        PARTICIPANT_LEFT = "participant_left", "Participant left"
        PARTICIPANT_REMOVED = "participant_removed", "Participant removed"
        REMOVE_REQUESTED = "remove_requested", "Removal requested"
        REMOVE_FAILED = "remove_failed", "Removal failed"
        JOIN_REQUEST_CREATED = "join_request_created", "Join request created"
        JOIN_REQUEST_REVOKED = "join_request_revoked", "Join request revoked"
        JOIN_REQUEST_APPROVED = "join_request_approved", "Join request approved"
        JOIN_REQUEST_REJECTED = "join_request_rejected", "Join request rejected"
        JOIN_REQUEST_APPROVE_FAILED = "join_request_approve_failed", "Join request approval failed"
        JOIN_REQUEST_REJECT_FAILED = "join_request_reject_failed", "Join request rejection failed"
        SETTINGS_REQUESTED = "settings_requested", "Settings change requested"
        SETTINGS_UPDATED = "settings_updated", "Settings updated"
        SETTINGS_FAILED = "settings_failed", "Settings update failed"
        INVITE_LINK_RESET = "invite_link_reset", "Invite link reset"
        INVITE_LINK_DELETED = "invite_link_deleted", "Invite link deleted"
        SUSPENDED = "suspended", "Suspended"
        SUSPENSION_CLEARED = "suspension_cleared", "Suspension cleared"
        SYNCED = "synced", "Synced from Meta"

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="events")
    type = models.CharField(max_length=40, choices=timeline_type_choices, db_index=True)
    occurred_at = models.DateTimeField(db_index=True, help_text="Meta's time for webhook events, else ours.")
    detail = models.JSONField(default=dict, blank=True)
    source = models.CharField(max_length=10, choices=Source.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The webhook item behind the event (ids only: groups must not import webhooks).
    webhook_event_id = models.BigIntegerField(null=True, blank=True)
    webhook_item = models.CharField(max_length=100, blank=True)
    # Unique per effect, so the same webhook item arriving in another body writes nothing new.
    dedupe_key = models.CharField(max_length=64, unique=True, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-occurred_at", "-pk"]
        indexes = [models.Index(fields=["group", "-occurred_at"])]

    def __str__(self) -> str:
        return f"{self.get_type_display()} at {self.occurred_at:%Y-%m-%d %H:%M:%S}"


class GroupAuditAction(models.TextChoices):
    """The staff actions on groups written to the audit log (`core.audit.audit_record`)."""

    GROUP_CREATE = "group_create", "Create group"
    GROUP_CREATE_AGAIN = "group_create_again", "Create a failed group again"
    GROUP_DELETE = "group_delete", "Delete group"
    GROUP_SETTINGS_UPDATE = "group_settings_update", "Change subject/description"
    GROUP_PICTURE_UPDATE = "group_picture_update", "Change picture"
    INVITE_LINK_RESET = "invite_link_reset", "Reset invite link"
    INVITE_LINK_DELETE = "invite_link_delete", "Delete invite link"
    PARTICIPANTS_REMOVE = "participants_remove", "Remove participants"
    JOIN_REQUESTS_APPROVE = "join_requests_approve", "Approve join requests"
    JOIN_REQUESTS_REJECT = "join_requests_reject", "Reject join requests"
