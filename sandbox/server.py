"""The sandbox process: one HTTP server for the Graph and control APIs, plus the webhook machinery."""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from sandbox.config import SandboxConfig
from sandbox.control import PREFIX, ControlApi
from sandbox.delivery import WebhookDispatcher
from sandbox.graph import GraphApi, Request
from sandbox.inbox import PATH as INBOX_PATH
from sandbox.inbox import EventInbox
from sandbox.scheduler import Scheduler
from sandbox.simulation import Simulator
from sandbox.state import PhoneNumber, World

logger = logging.getLogger("sandbox")


class Sandbox:
    """A fake Meta: `start()` in a thread (tests) or `serve_forever()` (the command line)."""

    def __init__(self, config: SandboxConfig | None = None):
        self.config = config or SandboxConfig()
        self.rng = random.Random(self.config.seed)
        self.world = World(rng=self.rng, phone_number=PhoneNumber(
            self.config.phone_number_id, self.config.display_phone_number, self.config.waba_id))
        self.scheduler = Scheduler()
        self.dispatcher = WebhookDispatcher(config=self.config, scheduler=self.scheduler, rng=self.rng)
        self.sim = Simulator(config=self.config, world=self.world, scheduler=self.scheduler,
                             dispatcher=self.dispatcher, rng=self.rng)
        self.graph = GraphApi(config=self.config, world=self.world, sim=self.sim, rng=self.rng)
        self.control = ControlApi(sandbox=self)
        self.inbox = EventInbox()
        self.httpd = _Server((self.config.host, self.config.port), _handler_for(self))
        self.config.port = self.httpd.server_address[1]  # Port 0 asks the OS for a free one.
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The base URL the app's WHATSAPP_API_BASE_URL should hold."""
        return f"http://{self.config.host}:{self.config.port}"

    @property
    def pending(self) -> int:
        """Scheduled jobs plus webhook deliveries not yet finished."""
        return self.scheduler.pending + self.dispatcher.outstanding

    def start(self, poll_interval: float = 0.05) -> Sandbox:
        """Serve from a background thread; `stop()` takes up to `poll_interval` seconds."""
        self.scheduler.start()
        self._thread = threading.Thread(target=self.httpd.serve_forever, args=(poll_interval,), name="sandbox-http",
                                        daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self.scheduler.start()
        try:
            self.httpd.serve_forever()
        finally:
            self.stop()

    def stop(self) -> None:
        if self._thread is not None:
            self.httpd.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self.httpd.server_close()
        self.scheduler.stop()
        self.dispatcher.close()

    def reset(self) -> None:
        """Forget every group, message and scheduled webhook; keep the settings."""
        self.scheduler.clear()
        self.dispatcher.forget()
        self.world.reset()

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Wait until nothing is scheduled or being delivered; return False on timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.pending == 0:
                return True
            time.sleep(0.01)
        return self.pending == 0


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # A hanging answer (read-timeout fault) must not hold up shutdown.
    request_queue_size = 128  # Benchmarks open many connections at once; the default backlog is 5.


# One handler class closed over this sandbox (http.server builds a handler per request from a class): its routes
# read best together, so it stays one function past 60 lines.
def _handler_for(sandbox: Sandbox) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "GroupdeskSandbox/1.0"
        disable_nagle_algorithm = True  # Headers and body go out in two writes: no 40 ms stall.

        def _serve(self) -> None:
            split = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            if split.path.rstrip("/") + "/" == INBOX_PATH:
                self._inbox(body)
                return
            if split.path.startswith(PREFIX):
                status, payload = sandbox.control.handle(self.command, split.path, body)
                self._answer(status, payload)
                return
            request = Request(
                method=self.command,
                path=split.path,
                query=dict(parse_qsl(split.query, keep_blank_values=True)),
                headers={name.lower(): value for name, value in self.headers.items()},
                body=body,
            )
            if not split.path.startswith(sandbox.config.graph_prefix):
                self._answer(400, {"error": {"message": f"Unknown path components: {split.path}",
                                             "type": "OAuthException", "code": 2500, "fbtrace_id": "sandbox"}})
                return
            response = sandbox.graph.handle(request)
            if response.hang:
                time.sleep(response.hang)  # The client has given up by now: a read timeout.
            self._answer(response.status, response.body)

        def _inbox(self, body: bytes) -> None:
            """The demo endpoint: POST an event (the app's deliveries), GET the page or (JSON) the list."""
            if self.command == "POST":
                self._answer(sandbox.inbox.receive({k.lower(): v for k, v in self.headers.items()}, body), {})
            elif "text/html" in (self.headers.get("Accept") or ""):
                raw = sandbox.inbox.page().encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=UTF-8")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)
            else:
                self._answer(200, {"events": sandbox.inbox.events()})

        def _answer(self, status: int, payload: dict) -> None:
            raw = json.dumps(payload).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=UTF-8")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True

        do_GET = do_POST = do_DELETE = do_PUT = do_PATCH = _serve

        def log_message(self, format: str, *args) -> None:
            logger.info("%s %s", self.address_string(), format % args)

    return Handler
