"""Domain errors of the messaging app."""

from rest_framework import status

from config.exceptions import ApplicationError


class MessagingError(ApplicationError):
    code = "messaging_error"


class ContentInvalid(MessagingError):
    """The content of a message breaks one of Meta's rules; `field` names the offending key."""

    code = "invalid"


class MessageTypeNotSupported(MessagingError):
    """Meta does not deliver this type in groups (spec §5.1)."""

    code = "type_not_supported"


class GroupNotSendable(MessagingError):
    """The group is not active, is suspended, or has no Meta group id."""

    code = "group_not_sendable"


class IdempotencyKeyReused(MessagingError):
    """The Idempotency-Key was already used for a different message."""

    code = "idempotency_key_reused"
    http_status = status.HTTP_409_CONFLICT


class MessageNotRetryable(MessagingError):
    """Only failed messages can be retried."""

    code = "message_not_retryable"
    http_status = status.HTTP_409_CONFLICT
