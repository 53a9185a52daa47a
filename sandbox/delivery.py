"""Signed webhook POSTs to the app, with Meta's habits: concurrency, retries, duplicates, storms."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import logging
import random
import threading
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import requests

from sandbox.config import SandboxConfig
from sandbox.scheduler import Scheduler

logger = logging.getLogger("sandbox")

LOG_SIZE = 2000  # Enough for a demo session or a test; older deliveries fall off.


def signature(body: bytes, secret: str) -> str:
    """Return the X-Hub-Signature-256 value Meta sends: HMAC-SHA256 of the exact bytes."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@dataclass
class Delivery:
    id: int
    field: str
    body: bytes
    kind: str  # original | duplicate | storm
    attempts: list[dict] = field(default_factory=list)
    delivered: bool = False

    def summary(self) -> dict:
        return {"id": self.id, "field": self.field, "kind": self.kind, "delivered": self.delivered,
                "attempts": self.attempts, "body": json.loads(self.body)}


class WebhookDispatcher:
    """Serialize once, sign the bytes, POST from a thread pool; redeliver with backoff on any non-200."""

    def __init__(self, *, config: SandboxConfig, scheduler: Scheduler, rng: random.Random):
        self._config = config
        self._scheduler = scheduler
        self._rng = rng
        self._pool = ThreadPoolExecutor(max_workers=max(config.webhook_concurrency, 1),
                                        thread_name_prefix="sandbox-webhook")
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._waiting = 0  # Scheduled (first try or retry), not yet handed to the pool.
        self._running = 0
        self._local = threading.local()
        self.log: deque[Delivery] = deque(maxlen=LOG_SIZE)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    @property
    def outstanding(self) -> int:
        """Deliveries scheduled or in flight."""
        with self._lock:
            return self._waiting + self._running

    def forget(self) -> None:
        """Drop the log and the count of scheduled deliveries (the scheduler was cleared)."""
        with self._lock:
            self._waiting = 0
            self.log.clear()

    def send(self, body: dict, *, delay: float = 0.0) -> None:
        """Deliver `body` after `delay` seconds, now and then twice, or many times in a storm (never without a URL)."""
        if not self._config.webhook_url:
            return  # Benchmarks of the Graph side: a POST to nowhere would only cost the machine CPU.
        raw = json.dumps(body, separators=(",", ":")).encode()
        field_name = body["entry"][0]["changes"][0]["field"]
        self._enqueue(field_name, raw, "original", delay)
        if self._rng.random() < self._config.duplicate_rate:
            self._enqueue(field_name, raw, "duplicate", delay + self._rng.uniform(0.2, 2.0) * self._config.delay_scale)
        faults = self._config.faults
        if faults.storm_rate and self._rng.random() < faults.storm_rate:
            for copy in range(faults.storm_copies):
                self._enqueue(field_name, raw, "storm", delay + 0.01 * copy)

    def _enqueue(self, field_name: str, raw: bytes, kind: str, delay: float) -> None:
        delivery = Delivery(id=next(self._ids), field=field_name, body=raw, kind=kind)
        with self._lock:
            self.log.append(delivery)
        self._schedule(delivery, delay)

    def _schedule(self, delivery: Delivery, delay: float) -> None:
        with self._lock:
            self._waiting += 1
        self._scheduler.call_later(delay, lambda: self._submit(delivery))

    def _submit(self, delivery: Delivery) -> None:
        with self._lock:
            self._waiting = max(self._waiting - 1, 0)
            self._running += 1
        try:
            self._pool.submit(self._attempt, delivery)
        except RuntimeError:  # The pool is shut down: the sandbox is stopping.
            self._done()

    def _done(self) -> None:
        with self._lock:
            self._running -= 1

    def verify(self) -> dict:
        """Do Meta's GET handshake against the webhook URL (spec §7.2) and say whether it passed."""
        challenge = str(self._rng.randrange(10**9, 10**10))
        params = {"hub.mode": "subscribe", "hub.challenge": challenge, "hub.verify_token": self._config.verify_token}
        try:
            response = requests.get(self._config.webhook_url, params=params, timeout=self._config.webhook_timeout)
        except requests.RequestException as exc:
            return {"verified": False, "error": type(exc).__name__}
        return {"verified": response.status_code == 200 and response.text == challenge,
                "status": response.status_code}

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
        return session

    def _attempt(self, delivery: Delivery) -> None:
        record: dict = {"at": time.time()}
        try:
            response = self._session().post(
                self._config.webhook_url,
                data=delivery.body,
                headers={
                    "Content-Type": "application/json",
                    "X-Hub-Signature-256": signature(delivery.body, self._config.app_secret),
                    "User-Agent": "facebookexternalua",
                },
                timeout=self._config.webhook_timeout,
            )
            record["status"] = response.status_code
        except requests.RequestException as exc:
            record["error"] = type(exc).__name__
        delivery.attempts.append(record)
        if record.get("status") == 200:  # Meta: anything but 200 is a failed delivery.
            delivery.delivered = True
            self._done()
            return
        retries_done = len(delivery.attempts) - 1
        if retries_done >= self._config.webhook_retries:
            logger.warning("webhook %s dropped after %d attempts: %s", delivery.id, len(delivery.attempts), record)
            self._done()
            return
        self._schedule(delivery, self._config.webhook_retry_base * (2**retries_done))
        self._done()
