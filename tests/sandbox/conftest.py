"""Fixtures for the sandbox: a real sandbox on a free port, and a tiny server playing the app's webhook URL."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from sandbox import Sandbox, SandboxConfig
from sandbox.config import FaultConfig

TOKEN = "sandbox-test-token-0123456789"
SECRET = "sandbox-test-secret-0123456789"


@pytest.fixture(autouse=True)
def graph():
    """Override the root fixture: these tests make real loopback calls, which `responses` would block."""
    yield None


class Receiver:
    """Collect signed webhook posts; answer each with the next status in `statuses` (then 200)."""

    def __init__(self) -> None:
        self.posts: list[tuple[dict, bytes]] = []  # (headers, raw body)
        self.statuses: list[int] = []
        self.always: int = 200
        self._cond = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # Headers and body go out in two writes: no 40 ms stall.

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver._cond:
                    receiver.posts.append(({k.lower(): v for k, v in self.headers.items()}, raw))
                    status = receiver.statuses.pop(0) if receiver.statuses else receiver.always
                    receiver._cond.notify_all()
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format: str, *args) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/webhooks/whatsapp/"
        threading.Thread(target=self.httpd.serve_forever, args=(0.01,), daemon=True).start()

    def bodies(self) -> list[dict]:
        with self._cond:
            return [json.loads(raw) for _headers, raw in self.posts]

    def wait_for(self, predicate: Callable[[list[dict]], object], timeout: float = 5.0):
        """Wait until `predicate(bodies)` is truthy and return its value."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                value = predicate([json.loads(raw) for _h, raw in self.posts])
                if value or time.monotonic() >= deadline:
                    assert value, f"timed out; received {[json.loads(raw) for _h, raw in self.posts]}"
                    return value
                self._cond.wait(max(deadline - time.monotonic(), 0.01))

    def items(self, field: str, kind: str | None = None) -> list[dict]:
        """Return every groups[]/statuses[] item of that field (and groups[].type) received so far."""
        found = []
        for body in self.bodies():
            for entry in body["entry"]:
                for change in entry["changes"]:
                    if change["field"] != field:
                        continue
                    value = change["value"]
                    for item in value.get("groups", []) + value.get("statuses", []):
                        if kind is None or item.get("type") == kind:
                            found.append(item)
        return found

    def wait_items(self, field: str, kind: str | None = None, count: int = 1, timeout: float = 5.0) -> list[dict]:
        return self.wait_for(lambda _b: (lambda found: found if len(found) >= count else None)(
            self.items(field, kind)), timeout)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    rec = Receiver()
    yield rec
    rec.httpd.shutdown()
    rec.httpd.server_close()


def valid_signature(headers: dict, raw: bytes) -> bool:
    expected = "sha256=" + hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()
    return hmac.compare_digest(headers.get("x-hub-signature-256", ""), expected)


class Api:
    """Call the sandbox as the app's client does: Bearer token, JSON bodies, Graph paths."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.base = f"{sandbox.url}/{sandbox.config.api_version}"
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {TOKEN}"
        self.phone = sandbox.config.phone_number_id

    def call(self, method: str, path: str, **kwargs) -> requests.Response:
        kwargs.setdefault("timeout", 5)
        return self.session.request(method, self.base + path, **kwargs)

    def control(self, method: str, path: str, **kwargs) -> requests.Response:
        return requests.request(method, f"{self.sandbox.url}/_sandbox/{path}", timeout=5, **kwargs)

    def create_group(self, receiver: Receiver, subject: str = "Order 1 - support", **extra) -> str:
        """Create a group and return its id once the create webhook arrived."""
        body = {"messaging_product": "whatsapp", "subject": subject, **extra}
        request_id = self.call("POST", f"/{self.phone}/groups", json=body).json()["request_id"]
        created = receiver.wait_for(lambda _b: [i for i in receiver.items("group_lifecycle_update", "group_create")
                                                if i["request_id"] == request_id])
        return created[0]["group_id"]

    def join(self, group_id: str, **body) -> dict:
        response = self.control("POST", f"groups/{group_id}/join", json=body)
        assert response.status_code == 200, response.text
        return response.json()

    def send_text(self, group_id: str, text: str = "Hello group", timeout: float | tuple = 5,
                  **extra) -> requests.Response:
        return self.call("POST", f"/{self.phone}/messages", timeout=timeout, json={
            "messaging_product": "whatsapp", "recipient_type": "group", "to": group_id, "type": "text",
            "text": {"preview_url": False, "body": text}, **extra})


QUIET = {"auto_join": 0, "leave_rate": 0.0, "duplicate_rate": 0.0, "reorder_rate": 0.0, "read_rate": 1.0}


@pytest.fixture
def make_sandbox(receiver: Receiver) -> Iterator[Callable[..., Sandbox]]:
    """Return a factory of started sandboxes: no delays, no randomness unless a test asks for it."""
    started: list[Sandbox] = []

    def make(faults: dict | None = None, **overrides) -> Sandbox:
        settings = {"host": "127.0.0.1", "port": 0, "access_token": TOKEN, "app_secret": SECRET,
                    "webhook_url": receiver.url, "delay_scale": 0.0, "seed": 7, "webhook_retry_base": 0.01,
                    "webhook_concurrency": 1, **QUIET, **overrides}
        sandbox = Sandbox(SandboxConfig(**settings, faults=FaultConfig(**(faults or {})))).start(poll_interval=0.01)
        started.append(sandbox)
        return sandbox

    yield make
    for sandbox in started:
        sandbox.stop()


@pytest.fixture
def api(make_sandbox) -> Api:
    return Api(make_sandbox())
