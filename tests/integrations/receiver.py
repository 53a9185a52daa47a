"""A local HTTP receiver of events for tests: records every request and answers as told."""

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """Answers `statuses` in turn (the last one repeats), with `answer_body`, and keeps what it received."""

    url: str = ""
    statuses: list[int] = field(default_factory=lambda: [200])
    answer_body: bytes = b"ok"
    extra_headers: dict[str, str] = field(default_factory=dict)
    hang_seconds: float = 0  # While set, each request is kept this long unanswered (a sender killed mid-POST).
    received: list[Received] = field(default_factory=list)

    def next_status(self) -> int:
        return self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]


def start_receiver(port: int = 0) -> tuple[Receiver, ThreadingHTTPServer]:
    receiver = Receiver()

    class Handler(BaseHTTPRequestHandler):
        disable_nagle_algorithm = True  # Headers and body go out in two writes: no delayed-ACK stall.
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            receiver.received.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
            if receiver.hang_seconds:
                time.sleep(receiver.hang_seconds)
            self.send_response(receiver.next_status())
            for name, value in receiver.extra_headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(receiver.answer_body)))
            self.end_headers()
            self.wfile.write(receiver.answer_body)

        def log_message(self, *args):
            pass

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 64  # Senders open up to INTEGRATIONS_DELIVERY_CONCURRENCY connections at once.

    server = Server(("127.0.0.1", port), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/groupdesk"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return receiver, server
