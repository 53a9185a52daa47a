"""A local receiver of outbound events for the benchmarks: answers 200 to every POST, in its own process."""

from __future__ import annotations

import multiprocessing
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def receiver_serve(port_queue) -> None:
    """Serve on a free loopback port (put on `port_queue`), answering 200 on HTTP/1.1 keep-alive connections."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # Headers and body go out in two writes: no delayed-ACK stall.

        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 256

    server = Server(("127.0.0.1", 0), Handler)
    port_queue.put(server.server_address[1])
    server.serve_forever()


def receiver_start() -> tuple[multiprocessing.Process, str]:
    """Start a receiver process; return it (terminate it when done) and the URL to subscribe."""
    ports = multiprocessing.Queue()
    receiver = multiprocessing.Process(target=receiver_serve, args=(ports,), daemon=True)
    receiver.start()
    return receiver, f"http://127.0.0.1:{ports.get(timeout=10)}/hooks"
