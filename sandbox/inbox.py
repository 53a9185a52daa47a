"""The demo receiver of Groupdesk's outbound events at /_sandbox/events/: keeps what arrives, shows it.

`make run` registers it as a webhook endpoint of the app (over HTTP, like any integrator) and hands it the signing
secret, so each event is shown with whether its Standard Webhooks signature verified.
"""

from __future__ import annotations

import html
import json
import threading
from collections import deque
from dataclasses import dataclass

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

PATH = "/_sandbox/events/"
KEPT = 200  # The newest events; a demo needs no more.


@dataclass(frozen=True)
class ReceivedEvent:
    webhook_id: str
    timestamp: str
    verified: bool | None  # None: no secret to check with.
    body: dict | str

    def summary(self) -> dict:
        body = self.body if isinstance(self.body, dict) else {}
        return {"webhook_id": self.webhook_id, "type": body.get("type"), "sequence": body.get("sequence"),
                "object": body.get("object"), "verified": self.verified, "timestamp": self.timestamp,
                "body": self.body}


class EventInbox:
    def __init__(self) -> None:
        self._events: deque[ReceivedEvent] = deque(maxlen=KEPT)
        self._lock = threading.Lock()
        self.secret: str | None = None

    def receive(self, headers: dict[str, str], body: bytes) -> int:
        """Keep one POSTed event; answer 200 (the app retries anything else)."""
        verified = None
        if self.secret:
            try:
                Webhook(self.secret).verify(body, headers)
                verified = True
            except WebhookVerificationError:
                verified = False
        try:
            parsed: dict | str = json.loads(body)
        except ValueError:
            parsed = body.decode("utf-8", errors="replace")
        with self._lock:
            self._events.appendleft(ReceivedEvent(webhook_id=headers.get("webhook-id", ""),
                                                  timestamp=headers.get("webhook-timestamp", ""),
                                                  verified=verified, body=parsed))
        return 200

    def events(self) -> list[dict]:
        with self._lock:
            return [event.summary() for event in self._events]

    def page(self) -> str:
        """An HTML page of the received events, newest first (refreshes itself every 3 s)."""
        rows = "".join(
            f"<tr><td>{html.escape(str(e['type']))}</td><td>{html.escape(json.dumps(e['object']))}</td>"
            f"<td>{e['sequence']}</td><td>{'yes' if e['verified'] else 'NO' if e['verified'] is False else '?'}</td>"
            f"<td><code>{html.escape(e['webhook_id'])}</code></td>"
            f"<td><details><summary>body</summary><pre>{html.escape(json.dumps(e['body'], indent=2))}</pre>"
            f"</details></td></tr>"
            for e in self.events()
        )
        return (
            "<!doctype html><meta charset=utf-8><meta http-equiv=refresh content=3>"
            "<title>Sandbox: events received</title><h1>Events Groupdesk pushed to this demo endpoint</h1>"
            "<p>Newest first; the signature is checked with the endpoint's secret (Standard Webhooks).</p>"
            "<table border=1 cellpadding=4><tr><th>type</th><th>object</th><th>sequence</th><th>signature ok</th>"
            f"<th>webhook-id</th><th></th></tr>{rows or '<tr><td colspan=6>Nothing yet.</td></tr>'}</table>"
        )
