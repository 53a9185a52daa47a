"""Standard Webhooks signatures (webhook-id, webhook-timestamp, webhook-signature v1), with the library's signer."""

import base64
import secrets
from datetime import UTC, datetime

from standardwebhooks.webhooks import Webhook

SECRET_PREFIX = "whsec_"


def secret_new() -> str:
    """Return a new signing secret in the spec's form: "whsec_" and 32 random bytes in base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def signature_headers(*, event_id: str, body: str, signing_secrets: list[str], at: datetime) -> dict[str, str]:
    """Return the three headers of one attempt; every secret signs (two during a rotation), space-separated."""
    at = at.astimezone(UTC)
    signatures = " ".join(Webhook(secret).sign(event_id, at, body) for secret in signing_secrets)
    return {
        "webhook-id": event_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signatures,
        "content-type": "application/json",
        "user-agent": "Groupdesk-Webhooks/1",
    }
