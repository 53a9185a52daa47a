"""`make run`: the sandbox and the app together, one command; Ctrl-C stops both.

Starts `python -m sandbox` (Meta's part) and the Django development server, waits for the
app to answer, seeds the demo data through the app (so it goes through the sandbox like any
other call), runs the periodic tasks in-process, and prints where to log in last, below the
start-up output, so it is what stays on screen. It only starts processes: like the rest of the
sandbox, it imports nothing of the apps.
"""

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APP_ADDRESS = os.environ.get("GROUPDESK_ADDRESS", "127.0.0.1:8000")
SANDBOX_URL = os.environ.get("WHATSAPP_SANDBOX_URL", "http://127.0.0.1:8001")


def main() -> int:
    python = sys.executable
    env = {**os.environ, "WHATSAPP_SANDBOX": "true", "PYTHONUNBUFFERED": "1"}
    webhook_url = f"http://{APP_ADDRESS}/webhooks/whatsapp/"
    # Own process groups: Ctrl-C reaches them once, from `finally` below, not also from the terminal
    # (a second SIGINT while they shut down prints a traceback).
    processes = [
        subprocess.Popen([python, "-m", "sandbox", "--webhook-url", webhook_url], cwd=ROOT, env=env,
                         process_group=0),
        # Its stdout is only the start-up text; requests, warnings and errors go to stderr (LOG_LEVEL).
        subprocess.Popen([python, "manage.py", "runserver", APP_ADDRESS, "--noreload"], cwd=ROOT, env=env,
                         stdout=subprocess.DEVNULL, process_group=0),
    ]
    try:
        if not _wait_for(f"http://{APP_ADDRESS}/healthz/", processes):
            return 1
        # Before the demo data, so the events page shows the demo groups being created too.
        if _wait_for(f"{SANDBOX_URL}/_sandbox/health", processes):
            _register_demo_endpoint(python, env)
        subprocess.run([python, "manage.py", "seed_demo"], cwd=ROOT, env=env, check=False)
        processes.append(subprocess.Popen([python, "manage.py", "run_periodic_tasks"], cwd=ROOT, env=env,
                                          process_group=0))
        subprocess.run([python, "manage.py", "demo_superuser"], cwd=ROOT, env=env, check=False)
        print(login_banner(APP_ADDRESS, env), flush=True)
        while all(process.poll() is None for process in processes):
            time.sleep(0.5)
        return 1  # One of them died on its own.
    except KeyboardInterrupt:
        return 0
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


def _register_demo_endpoint(python: str, env: dict) -> None:
    """Make the sandbox's /_sandbox/events/ a webhook endpoint of the app, and give the sandbox its secret.

    The secret goes from the command's output straight to the sandbox: it is never printed.
    """
    made = subprocess.run([python, "manage.py", "demo_webhook_endpoint", "--url", f"{SANDBOX_URL}/_sandbox/events/"],
                          cwd=ROOT, env=env, check=False, capture_output=True, text=True)
    if made.returncode != 0:
        print("Could not register the demo webhook endpoint; events are not pushed to the sandbox.", flush=True)
        return
    request = urllib.request.Request(f"{SANDBOX_URL}/_sandbox/events/secret", method="POST",
                                     data=json.dumps({"secret": made.stdout.strip()}).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=5):  # The sandbox, on loopback.
        pass


def login_banner(address: str, env: dict[str, str]) -> str:
    """Where to log in and as whom (the demo superuser of DJANGO_SUPERUSER_*), to print last."""
    return (
        "\nGroupdesk and the sandbox are running. Press Ctrl-C to stop both.\n\n"
        f"  Admin:    http://{address}/admin/\n"
        f"  User:     {env.get('DJANGO_SUPERUSER_USERNAME', '')}\n"
        f"  Password: {env.get('DJANGO_SUPERUSER_PASSWORD', '')}\n"
        f"  Events:   {SANDBOX_URL}/_sandbox/events/ (what Groupdesk pushes to the demo webhook endpoint)\n"
        f"  API docs: http://{address}/api/docs/\n"
    )


def _wait_for(url: str, processes: list[subprocess.Popen], timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(process.poll() is not None for process in processes):
            return False
        try:
            with urllib.request.urlopen(url, timeout=2):  # Our own loopback address.
                return True
        except OSError:
            time.sleep(0.3)
    return False


if __name__ == "__main__":
    sys.exit(main())
