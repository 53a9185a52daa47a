"""Meta's webhook endpoint (CONTRACT §4): verify, store, acknowledge; processing runs in a task."""

import logging

from django.conf import settings
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from django.utils.crypto import constant_time_compare
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt

from webhooks.health import signature_rejection_record
from webhooks.services import KEPT_HEADERS, ReceiveOutcome, webhook_event_receive
from webhooks.signature import signature_valid

logger = logging.getLogger(__name__)


@method_decorator(csrf_exempt, name="dispatch")  # Meta signs its posts; there is no session.
class WhatsAppWebhookView(View):
    http_method_names = ["get", "post"]

    def get(self, request: HttpRequest) -> HttpResponse:
        """Answer Meta's verification handshake with the challenge, or 403."""
        mode = request.GET.get("hub.mode")
        token = request.GET.get("hub.verify_token", "")
        challenge = request.GET.get("hub.challenge")
        expected = settings.WHATSAPP_VERIFY_TOKEN
        if mode == "subscribe" and challenge is not None and expected and constant_time_compare(token, expected):
            return HttpResponse(challenge, content_type="text/plain")
        logger.warning("webhook handshake refused", extra={"mode": (mode or "")[:32]})
        return HttpResponse("Forbidden", status=403, content_type="text/plain")

    def post(self, request: HttpRequest) -> HttpResponse:
        """Check the signature on the raw bytes, commit them, then answer 200 (400 if not JSON)."""
        limit = settings.WEBHOOK_MAX_BODY_BYTES
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return HttpResponse("Bad Content-Length", status=400, content_type="text/plain")
        if declared > limit:
            return _too_large(declared)
        # request.read() rather than request.body: Django's 2.5 MB upload cap must not apply here.
        body = request.read(limit + 1)
        if len(body) > limit:
            return _too_large(len(body))

        if not signature_valid(body=body, header=request.headers.get("X-Hub-Signature-256")):
            logger.warning(
                "webhook signature rejected",
                extra={"has_signature": "X-Hub-Signature-256" in request.headers, "length": len(body)},
            )
            signature_rejection_record()  # Counted per hour for the dashboard; the body is never kept.
            return HttpResponse("Invalid signature", status=403, content_type="text/plain")

        headers = {name: request.headers.get(name, "") for name in KEPT_HEADERS}
        try:
            _event, outcome = webhook_event_receive(body=body, headers=headers)
        except DatabaseError:
            # Never a 200 without a committed row: Meta retries a 5xx.
            logger.exception("webhook not stored: database unavailable")
            return HttpResponse("Storage unavailable", status=503, content_type="text/plain")
        if outcome is ReceiveOutcome.NOT_JSON:
            return HttpResponse("The body is not JSON", status=400, content_type="text/plain")
        return HttpResponse("OK", content_type="text/plain")


def _too_large(length: int) -> HttpResponse:
    logger.warning("webhook body too large", extra={"length": length})
    return HttpResponse("Payload too large", status=413, content_type="text/plain")
