"""Domain errors of the integrations app."""

from rest_framework import status

from config.exceptions import ApplicationError


class IntegrationsError(ApplicationError):
    code = "integrations_error"


class EndpointUrlRefused(IntegrationsError):
    """The URL is not https, names a loopback, private or link-local address, or cannot be used at all."""

    code = "url_refused"


class EventTypeUnknown(IntegrationsError):
    code = "event_type_unknown"


class NothingToResend(IntegrationsError):
    code = "nothing_to_resend"


class EndpointInactive(IntegrationsError):
    """Deliveries go only to active endpoints: a ping queued for an inactive one would wait until it is enabled."""

    code = "endpoint_inactive"
    http_status = status.HTTP_409_CONFLICT
