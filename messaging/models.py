"""Messaging data: outbound messages, their status history and receipts, inbound messages, account errors."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from core.models import Source, TimeStamped
from core.people import person_label
from groups.models import Group, Participant, PhoneNumber

CALLBACK_PREFIX = "groupdesk:message:"


class OutboundMessage(TimeStamped):
    """A message we send to a group (CONTRACT §5 "Messages"); its status only moves forward."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Sending"
        ACCEPTED = "accepted", "Accepted by Meta"
        SENT = "sent", "Sent"
        DELIVERED = "delivered", "Delivered"
        READ = "read", "Read"
        FAILED = "failed", "Failed"

    class Type(models.TextChoices):
        TEXT = "text", "Text"
        IMAGE = "image", "Image"
        VIDEO = "video", "Video"
        AUDIO = "audio", "Audio"
        DOCUMENT = "document", "Document"
        TEMPLATE = "template", "Template"
        PIN = "pin", "Pin or unpin"  # Sent by the pins service through the same pipeline, never composed.

    # Indexed by (created_at, status, group) below: a second index on created_at alone would only cost writes.
    created_at = models.DateTimeField(auto_now_add=True)
    # Indexed by (group, -created_at) below: a second index on group alone would only cost writes.
    group = models.ForeignKey(Group, on_delete=models.PROTECT, related_name="outbound_messages", db_index=False)
    type = models.CharField(max_length=20, choices=Type.choices)
    # Meta's type object exactly as sent, e.g. {"body": "...", "preview_url": false} for text.
    content = models.JSONField(default=dict)
    # Indexed by (status, ...) below. Every index is written by each change of status, so none is redundant here:
    # unique fields are constraints in Meta, because `unique=True` on a CharField adds a LIKE index on PostgreSQL.
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    wamid = models.CharField(max_length=255, null=True, blank=True)
    error = models.JSONField(null=True, blank=True, help_text="{code, title, message, details, href}")
    # The error's code as text (Meta's number or ours, e.g. "outcome_unknown"), for filtering.
    error_code = models.CharField(max_length=32, blank=True)
    recipient_count = models.PositiveSmallIntegerField(default=0, help_text="Active participants when sent.")
    delivered_count = models.PositiveSmallIntegerField(default=0)
    read_count = models.PositiveSmallIntegerField(default=0)
    retry_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="retries"
    )
    idempotency_key = models.CharField(max_length=255, null=True, blank=True)
    # What the first request carried, so a reused key with another message is refused, not ignored.
    request_fingerprint = models.CharField(max_length=64, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.API)
    attempt_count = models.PositiveSmallIntegerField(default=0, help_text="Calls to Meta made so far.")
    next_attempt_at = models.DateTimeField(null=True, blank=True, help_text="When a queued retry is due.")
    sending_started_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["group", "-created_at"]),
            models.Index(fields=["status", "sending_started_at"]),
            # Support desk (issue 8): failures over time, and messages Meta accepted that never got a status.
            models.Index(fields=["failed_at"], condition=Q(status="failed"), name="outbound_failed_at_idx"),
            models.Index(fields=["status", "accepted_at"], name="outbound_status_accepted_idx"),
            # The dashboard's per-number counts read only these columns: an index-only scan of a period.
            models.Index(fields=["created_at", "status", "group"], name="outbound_created_status_idx"),
            models.Index(fields=["error_code"], name="outbound_error_code_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["wamid"], name="outbound_message_unique_wamid"),
            models.UniqueConstraint(
                fields=["created_by", "idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="outbound_message_unique_idempotency_key",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_type_display()} message #{self.pk} to {self.group}"

    @property
    def callback_data(self) -> str:
        """Our id as sent in `biz_opaque_callback_data`, so a status can find us without a wamid."""
        return f"{CALLBACK_PREFIX}{self.pk}"


class MessageStatusChange(models.Model):
    """One event in a message's history: ours (queued, sending, retries) or one Meta status item."""

    # Indexed by the (message, event_key) constraint below.
    message = models.ForeignKey(
        OutboundMessage, on_delete=models.CASCADE, related_name="status_changes", db_index=False
    )
    status = models.CharField(max_length=20, help_text="The event: a Meta status or one of our steps.")
    from_status = models.CharField(max_length=10, blank=True)
    to_status = models.CharField(max_length=10, blank=True)
    # "" for group-level events; "wa:<phone>" or "user:<BSUID>" for one participant.
    participant_key = models.CharField(max_length=200, blank=True)
    participant = models.ForeignKey(Participant, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    participant_wa_id = models.CharField(max_length=32, blank=True)
    participant_user_id = models.CharField(max_length=160, blank=True)
    timestamp = models.DateTimeField(null=True, blank=True, help_text="Meta's time of the event.")
    error = models.JSONField(null=True, blank=True)
    pricing = models.JSONField(null=True, blank=True)
    source = models.CharField(max_length=10, choices=Source.choices)
    detail = models.JSONField(default=dict, blank=True)
    webhook_event_id = models.BigIntegerField(null=True, blank=True)
    webhook_item = models.CharField(max_length=100, blank=True)
    # Meta's events are unique per (message, status, participant): a duplicate delivery writes nothing.
    # Our own steps (which may repeat across attempts) leave it null.
    event_key = models.CharField(max_length=240, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["message", "event_key"], name="message_status_change_unique_event"),
        ]

    def __str__(self) -> str:
        who = f" ({self.participant_key})" if self.participant_key else ""
        return f"{self.status}{who}"


class MessageReceipt(TimeStamped):
    """Delivery and read times of one message for one participant; each only ever set once, earliest wins."""

    # Indexed by the (message, participant_key) constraint below.
    message = models.ForeignKey(OutboundMessage, on_delete=models.CASCADE, related_name="receipts", db_index=False)
    participant_key = models.CharField(max_length=200)
    participant = models.ForeignKey(Participant, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    participant_wa_id = models.CharField(max_length=32, blank=True)
    participant_user_id = models.CharField(max_length=160, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["message", "participant_key"]
        constraints = [
            models.UniqueConstraint(fields=["message", "participant_key"], name="message_receipt_unique_participant"),
        ]

    def __str__(self) -> str:
        return person_label(wa_id=self.participant_wa_id, user_id=self.participant_user_id,
                            fallback=self.participant_key)


class UnmatchedStatus(TimeStamped):
    """A status item for a wamid we do not know (yet): kept, and applied once the wamid becomes known."""

    wamid = models.CharField(max_length=255, db_index=True)
    status = models.CharField(max_length=20)
    participant_key = models.CharField(max_length=200, blank=True)
    item = models.JSONField(help_text="The status item exactly as Meta sent it.")
    event = models.JSONField(help_text="The item as parsed (messaging.events.StatusEvent), applied once known.")
    webhook_event_id = models.BigIntegerField(null=True, blank=True)
    webhook_item = models.CharField(max_length=100, blank=True)
    timestamp = models.DateTimeField(null=True, blank=True)
    message = models.ForeignKey(
        OutboundMessage, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="The message it was applied to, once known.",
    )
    applied_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name_plural = "unmatched statuses"
        constraints = [
            models.UniqueConstraint(
                fields=["wamid", "status", "participant_key"], name="unmatched_status_unique_event"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.status} for {self.wamid}"


def message_type_label(type_name: str) -> str:
    """Return a message type as people read it: our label ("Image"), else Meta's name humanised ("Sticker")."""
    if type_name in OutboundMessage.Type.values:
        return OutboundMessage.Type(type_name).label
    return type_name.replace("_", " ").capitalize() or "Message"


class InboundMessage(TimeStamped):
    """A message a participant wrote in a group (CONTRACT §5 "Inbound messages")."""

    group = models.ForeignKey(Group, null=True, blank=True, on_delete=models.SET_NULL, related_name="inbound_messages")
    # Meta's group id as received, kept even when the group is not (yet) ours.
    meta_group_id = models.CharField("Meta group ID", max_length=255, blank=True, db_index=True)
    phone_number = models.ForeignKey(PhoneNumber, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    wamid = models.CharField(max_length=255, unique=True)
    participant = models.ForeignKey(Participant, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    from_wa_id = models.CharField(max_length=32, blank=True)
    from_user_id = models.CharField(max_length=160, blank=True)
    contact_name = models.CharField(max_length=256, blank=True)
    contact_username = models.CharField(max_length=128, blank=True)
    type = models.CharField(max_length=40)
    text = models.TextField(blank=True, help_text="The text body, or a media caption.")
    content = models.JSONField(default=dict, blank=True, help_text="Meta's type object (media id, mime type, ...).")
    media_id = models.CharField(max_length=255, blank=True)
    mime_type = models.CharField(max_length=128, blank=True)
    error = models.JSONField(null=True, blank=True, help_text="The first error, e.g. 130501 for unsupported.")
    errors = models.JSONField(default=list, blank=True)
    timestamp = models.DateTimeField(help_text="Meta's time of the message.")
    webhook_event_id = models.BigIntegerField(null=True, blank=True)
    webhook_item = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["-timestamp", "-pk"]
        indexes = [models.Index(fields=["group", "-timestamp"])]

    def __str__(self) -> str:
        """ "Image from Maya Patel (+16505551234)": the type as people say it, the sender by the name Meta gave."""
        sender = person_label(name=self.contact_name, wa_id=self.from_wa_id, user_id=self.from_user_id)
        return f"{message_type_label(self.type)} from {sender}"


class AccountError(models.Model):
    """An account-level error Meta reported under `messages` → `errors[]` (e.g. 130429)."""

    phone_number = models.ForeignKey(PhoneNumber, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    meta_phone_number_id = models.CharField("Meta phone number ID", max_length=64, blank=True)
    code = models.IntegerField(null=True, blank=True, db_index=True)
    title = models.CharField(max_length=255, blank=True)
    message = models.TextField(blank=True)
    details = models.TextField(blank=True)
    href = models.URLField(max_length=500, blank=True)
    webhook_event_id = models.BigIntegerField(null=True, blank=True)
    webhook_item = models.CharField(max_length=100, blank=True)
    received_at = models.DateTimeField(db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_at", "-pk"]
        constraints = [
            # Reprocessing the same stored webhook must not record the error twice.
            models.UniqueConstraint(
                fields=["webhook_event_id", "webhook_item"],
                condition=Q(webhook_event_id__isnull=False),
                name="account_error_unique_item",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"


class SendPace(models.Model):
    """The next free send slot per phone number: a token bucket shared by every worker (database backend)."""

    key = models.CharField(max_length=100, unique=True)
    next_free_at = models.FloatField(default=0.0, help_text="Unix time of the next free send slot.")

    class Meta:
        ordering = ["key"]

    def __str__(self) -> str:
        return self.key


class Pin(TimeStamped):
    """A pinned message of a group (CONTRACT §5 "Pins"); Meta cannot list pins, so this is the record."""

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        ACTIVE = "active", "Active"
        EXPIRED = "expired", "Expired"
        UNPINNED = "unpinned", "Unpinned"
        REPLACED = "replaced", "Replaced by a newer pin"
        FAILED = "failed", "Failed"

    MAX_ACTIVE_PER_GROUP = 3  # Meta unpins the oldest when a fourth is pinned (spec §4.16).
    MIN_EXPIRATION_DAYS = 1
    MAX_EXPIRATION_DAYS = 30

    group = models.ForeignKey(Group, on_delete=models.PROTECT, related_name="pins")
    message_id = models.CharField(max_length=255, db_index=True, help_text="The pinned message's wamid.")
    # The pinned message as we know it: one of ours, or one a participant wrote.
    target_message = models.ForeignKey(
        OutboundMessage, null=True, blank=True, on_delete=models.SET_NULL, related_name="pinned_as"
    )
    target_inbound = models.ForeignKey(
        InboundMessage, null=True, blank=True, on_delete=models.SET_NULL, related_name="pinned_as"
    )
    expiration_days = models.PositiveSmallIntegerField()
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING, db_index=True)
    # The outbound messages of type `pin` that carry the pin and, once asked, the unpin action.
    pin_message = models.OneToOneField(OutboundMessage, on_delete=models.PROTECT, related_name="pin_action")
    unpin_message = models.OneToOneField(
        OutboundMessage, null=True, blank=True, on_delete=models.PROTECT, related_name="unpin_action"
    )
    replaced_by = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="replaced_pins"
    )
    requested_at = models.DateTimeField()
    pinned_at = models.DateTimeField(null=True, blank=True, help_text="When Meta accepted the pin.")
    expires_at = models.DateTimeField(null=True, blank=True, db_index=True)
    unpinned_at = models.DateTimeField(null=True, blank=True, help_text="Unpinned, replaced or expired at.")
    error = models.JSONField(null=True, blank=True, help_text="{code, title, message, details, href}")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-requested_at", "-pk"]
        indexes = [
            models.Index(fields=["group", "state", "pinned_at"]),
            models.Index(fields=["state", "expires_at"]),
        ]

    def __str__(self) -> str:
        return f"Pin #{self.pk} in {self.group}"


class PinStatusChange(models.Model):
    """One change of a pin's state (or a step that kept it, such as an unpin request); written by services."""

    pin = models.ForeignKey(Pin, on_delete=models.CASCADE, related_name="status_changes")
    from_state = models.CharField(max_length=10, blank=True)
    to_state = models.CharField(max_length=10)
    source = models.CharField(max_length=10, choices=Source.choices)
    detail = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.from_state or '∅'} → {self.to_state}"


class MessagingAuditAction(models.TextChoices):
    """The staff actions on messages and pins written to the audit log (registered in `MessagingConfig.ready`)."""

    MESSAGE_SEND = "message_send", "Send message"
    MESSAGE_RETRY = "message_retry", "Retry message"
    PIN_CREATE = "pin_create", "Pin message"
    PIN_UNPIN = "pin_unpin", "Unpin message"


class MessagingTimelineType(models.TextChoices):
    """The group timeline's message and pin events (`GroupEvent.type`, registered in `MessagingConfig.ready`)."""

    MESSAGE_SENT = "message_sent", "Message sent"
    MESSAGE_FAILED = "message_failed", "Message failed"
    PINNED = "pinned", "Message pinned"
    UNPINNED = "unpinned", "Message unpinned"
    PIN_EXPIRED = "pin_expired", "Pin expired"
    PIN_REPLACED = "pin_replaced", "Pin replaced by a newer one"


class MessageHourlyCount(models.Model):
    """Messages created in one UTC hour by one number, per status and error code: the dashboard's long periods.

    Written only by `message_counts_roll_up` (a periodic task re-rolls recent closed hours from indexed columns), so
    the status path does no extra work; the hours not rolled up yet are counted live.
    """

    hour = models.DateTimeField(help_text="The start of the hour (UTC) the messages were created in.")
    phone_number = models.ForeignKey(PhoneNumber, on_delete=models.CASCADE, related_name="+", db_index=False)
    status = models.CharField(max_length=10)
    error_code = models.CharField(max_length=32, blank=True)
    messages = models.PositiveIntegerField()
    recipients = models.PositiveIntegerField()
    receipts_delivered = models.PositiveIntegerField()
    receipts_read = models.PositiveIntegerField()

    class Meta:
        ordering = ["hour", "pk"]
        constraints = [models.UniqueConstraint(fields=["hour", "phone_number", "status", "error_code"],
                                               name="message_hourly_count_unique_key")]

    def __str__(self) -> str:
        return f"{self.messages} {self.status} at {self.hour:%Y-%m-%d %H}:00 UTC"


class RollupWatermark(models.Model):
    """How far a roll-up has counted: hours before `until` are in its table, later ones are counted live."""

    name = models.CharField(max_length=40, unique=True)
    until = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} until {self.until:%Y-%m-%d %H:%M}"
