"""The shipped deployment: gunicorn settings from the environment, access logs without secrets, the units."""

import os
import re
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

from tests.processes import free_port, wait_for

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "docs" / "deploy"
GUNICORN = [sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.conf.py", "config.wsgi"]


def _print_config(**env: str) -> dict[str, str]:
    result = subprocess.run([*GUNICORN, "--print-config"], cwd=ROOT, env={**os.environ, **env},
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return dict(re.findall(r"^(\w+)\s+= (.*)$", result.stdout, flags=re.MULTILINE))


def test_gunicorn_takes_its_settings_from_the_environment():
    # when
    config = _print_config(WEB_CONCURRENCY="3", GUNICORN_THREADS="4", GUNICORN_TIMEOUT="45",
                           GUNICORN_GRACEFUL_TIMEOUT="20", GUNICORN_MAX_REQUESTS="500",
                           GUNICORN_MAX_REQUESTS_JITTER="50", GUNICORN_BIND="127.0.0.1:9100")
    # then
    assert {key: config[key] for key in ("workers", "threads", "timeout", "graceful_timeout", "max_requests",
                                         "max_requests_jitter", "bind", "accesslog")} == {
        "workers": "3", "threads": "4", "timeout": "45", "graceful_timeout": "20", "max_requests": "500",
        "max_requests_jitter": "50", "bind": "['127.0.0.1:9100']", "accesslog": "-",
    }


def test_gunicorn_defaults():
    config = _print_config()
    assert (config["workers"], config["timeout"], config["max_requests"]) == (str(os.cpu_count() * 2 + 1), "30",
                                                                              "1000")


def test_the_access_log_goes_to_stdout_without_the_query_string_holding_the_verify_token():
    # given: gunicorn as deployed, with one worker
    from django.conf import settings

    token = settings.WHATSAPP_VERIFY_TOKEN
    port = free_port()
    env = {**os.environ, "GUNICORN_BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": "1"}
    process = subprocess.Popen(GUNICORN, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        def up() -> bool:
            try:
                return urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz/", timeout=2).status == 200
            except OSError:
                return False

        wait_for(up, timeout=60, what="gunicorn")
        # when: Meta's handshake
        url = f"http://127.0.0.1:{port}/webhooks/whatsapp/?hub.mode=subscribe&hub.challenge=42&hub.verify_token={token}"
        with urllib.request.urlopen(url, timeout=5) as response:
            answer = response.read()
    finally:
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=60)
    # then
    assert answer == b"42"
    handshake = [line for line in stdout.splitlines() if "/webhooks/whatsapp/" in line]
    assert len(handshake) == 1, stdout
    assert '"GET /webhooks/whatsapp/ HTTP/1.1" 200' in handshake[0]
    assert re.search(r" \d+ms ", handshake[0])
    assert token not in stdout + stderr
    assert "hub.challenge" not in stdout


def test_the_units_run_one_pool_per_queue_one_beat_and_gunicorn_with_its_config():
    units = {path.name: path.read_text() for path in DEPLOY.glob("*.service")}
    assert set(units) == {"groupdesk-web.service", "groupdesk-worker-webhooks.service",
                          "groupdesk-worker-outbound.service", "groupdesk-worker-integrations.service",
                          "groupdesk-beat.service"}
    assert "gunicorn -c config/gunicorn.conf.py config.wsgi" in units["groupdesk-web.service"]
    assert "worker -Q webhooks " in units["groupdesk-worker-webhooks.service"]
    assert "worker -Q outbound " in units["groupdesk-worker-outbound.service"]
    assert "worker -Q integrations " in units["groupdesk-worker-integrations.service"]
    assert " beat " in units["groupdesk-beat.service"]
    assert all("EnvironmentFile=/etc/groupdesk/groupdesk.env" in text for text in units.values())
    nginx = (DEPLOY / "nginx-groupdesk.conf").read_text()
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in nginx
    assert "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;" in nginx
    assert "$request " not in nginx and "$request_uri " not in nginx.split("log_format")[1].split(";")[0]


def test_the_guide_covers_what_issue_9_asks_and_the_readme_links_it():
    guide = (ROOT / "docs" / "deployment.md").read_text()
    for topic in ("gunicorn", "`webhooks`", "`outbound`", "beat", "PostgreSQL", "Redis", "/readyz/",
                  "Scaling out", "X-Forwarded-Proto", "Secrets"):
        assert topic in guide, topic
    assert "(docs/deployment.md)" in (ROOT / "README.md").read_text()
