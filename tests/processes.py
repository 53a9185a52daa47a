"""Start the real processes the integration and browser tests need: the sandbox and a Celery worker."""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate, *, timeout: float = 30.0, interval: float = 0.2, what: str = "condition"):
    """Return the first truthy value of `predicate()`, polling until `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(interval)
    raise AssertionError(f"{what} not met within {timeout} s")


def start_sandbox(*, port: int, webhook_url: str, access_token: str, app_secret: str) -> subprocess.Popen:
    """Start `python -m sandbox` with short, seeded delays and wait until it answers."""
    process = subprocess.Popen(
        [sys.executable, "-m", "sandbox", "--port", str(port), "--webhook-url", webhook_url,
         "--access-token", access_token, "--app-secret", app_secret, "--delay-scale", "0.05", "--seed", "7",
         "--auto-join", "0", "--read-rate", "1", "--leave-rate", "0"],
        cwd=ROOT,
    )

    def healthy() -> bool:
        if process.poll() is not None:
            raise RuntimeError("the sandbox exited")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_sandbox/health", timeout=1):
                return True
        except OSError:
            return False

    wait_for(healthy, timeout=30, what="sandbox start")
    return process


def start_worker(*, env: dict[str, str]) -> subprocess.Popen:
    """Start a Celery worker on both queues and wait until it answers a ping."""
    from config.celery import app

    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", "webhooks,outbound,integrations", "-c", "2",
         "--without-mingle", "--without-gossip", "-l", "WARNING", "-n", f"test-{os.getpid()}@%h"],
        cwd=ROOT,
        env=env,
    )

    def answers() -> bool:
        if process.poll() is not None:
            raise RuntimeError("the Celery worker exited")
        return bool(app.control.ping(timeout=1))

    wait_for(answers, timeout=60, what="worker start")
    return process


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
