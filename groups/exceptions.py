"""The groups app's domain errors: each names the condition and maps to one HTTP status."""

from rest_framework import status

from config.exceptions import ApplicationError, NotYetApplicable


class GroupInputInvalid(ApplicationError):
    """A value for a group operation breaks Meta's documented limits; `field` names it."""

    code = "invalid"
    http_status = status.HTTP_400_BAD_REQUEST


class GroupChangeRefused(ApplicationError):
    """The group is in no state to accept this change."""

    code = "group_change_refused"
    http_status = status.HTTP_409_CONFLICT


class GroupNotActive(GroupChangeRefused):
    code = "group_not_active"


class GroupIsSuspended(GroupChangeRefused):
    code = "group_suspended"


class GroupCreateNotFailed(GroupChangeRefused):
    """Only a group whose creation failed for good can be created again."""

    code = "group_create_not_failed"


class JoinRequestNotPending(ApplicationError):
    code = "join_request_not_pending"
    http_status = status.HTTP_400_BAD_REQUEST


class CreateNotMatched(NotYetApplicable):
    """A create webhook whose request_id matches no create here (yet: our send may not have recorded it)."""

    code = "create_not_matched"


class OperationNotMatched(ApplicationError):
    """A webhook reports an operation Groupdesk has no record of (replay it once the record exists)."""

    code = "operation_not_matched"
    http_status = status.HTTP_409_CONFLICT


class GroupUnknown(NotYetApplicable):
    """A webhook names a group_id Groupdesk does not know (yet: its create webhook may come later)."""

    code = "group_unknown"
    http_status = status.HTTP_404_NOT_FOUND
