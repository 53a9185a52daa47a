"""The control API (/_sandbox/) and the command-line configuration."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sandbox.config import load_config
from tests.sandbox.conftest import Api
from tests.sandbox.helpers import sample_item


def test_state_and_reset(api, receiver):
    # given
    group_id = api.create_group(receiver)
    # when
    before = api.control("GET", "state").json()
    reset = api.control("POST", "reset")
    after = api.control("GET", "state").json()
    # then
    assert [g["group_id"] for g in before["groups"]] == [group_id]
    assert reset.status_code == 200
    assert after["groups"] == []
    assert api.call("GET", f"/{group_id}").json()["error"]["code"] == 131041


def test_join_leave_revoke_and_inbound(api, receiver):
    # given
    open_group = api.create_group(receiver)
    closed_group = api.create_group(receiver, subject="Closed", join_approval_mode="approval_required")
    # when
    joined = api.join(open_group, wa_id="+16505551234", name="Maya Patel")
    inbound = api.control("POST", f"groups/{open_group}/inbound", json={"text": "Where is my parcel?"}).json()
    left = api.control("POST", f"groups/{open_group}/leave", json={"wa_id": "16505551234"}).json()
    asked = api.join(closed_group, wa_id="447700900123")
    revoked = api.control("POST", f"groups/{closed_group}/revoke", json={"wa_id": "447700900123"}).json()
    # then
    assert joined == {"wa_id": "16505551234", "joined": True}
    assert inbound["wa_id"] == "16505551234"
    assert left == {"wa_id": "16505551234", "left": True}
    assert revoked["join_request_id"] == asked["join_request_id"]
    revoked_item = receiver.wait_items("group_participants_update", "group_join_request_revoked")[0]
    assert set(revoked_item) == set(sample_item("group_participants_update.join_request_revoked"))
    message = receiver.wait_for(
        lambda bodies: [b for b in bodies if "messages" in b["entry"][0]["changes"][0]["value"]])
    value = message[0]["entry"][0]["changes"][0]["value"]
    expected = sample_item("messages.inbound_text")
    assert set(value["messages"][0]) == set(expected)
    assert value["messages"][0]["text"]["body"] == "Where is my parcel?"
    assert value["contacts"][0]["profile"]["name"] == "Maya Patel"


def test_control_refusals(api, receiver):
    # given
    group_id = api.create_group(receiver)
    for _ in range(8):
        api.join(group_id)
    # when
    full = api.control("POST", f"groups/{group_id}/join", json={})
    twice = api.control("POST", f"groups/{group_id}/join", json={"wa_id": "16505551234"})
    unknown = api.control("POST", "groups/NOPE/join", json={})
    stranger_leaves = api.control("POST", f"groups/{group_id}/leave", json={"wa_id": "1"})
    no_endpoint = api.control("GET", "nothing")
    # then
    assert full.status_code == 409
    assert twice.status_code == 409
    assert unknown.status_code == 404
    assert stranger_leaves.status_code == 409
    assert no_endpoint.status_code == 404
    assert api.call("GET", f"/{group_id}", params={"fields": "total_participant_count"}).json()[
        "total_participant_count"] == 8


def test_flags_win_over_environment_over_defaults():
    # when
    config = load_config(
        ["--port", "9001", "--fault-error-rate", "0.2", "--delay-scale", "0"],
        {"SANDBOX_PORT": "9002", "WHATSAPP_ACCESS_TOKEN": "app-token", "SANDBOX_ACCESS_TOKEN": "sandbox-token",
         "WHATSAPP_APP_SECRET": "app-secret", "SANDBOX_FAULT_STORM_RATE": "0.5", "SANDBOX_SEED": "3"},
    )
    default = load_config([], {})
    # then
    assert config.port == 9001
    assert config.access_token == "sandbox-token"
    assert config.app_secret == "app-secret"
    assert config.faults.error_rate == 0.2
    assert config.faults.storm_rate == 0.5
    assert config.delay_scale == 0.0
    assert config.seed == 3
    assert (default.host, default.port, default.api_version) == ("127.0.0.1", 8001, "v25.0")
    assert default.webhook_url == "http://127.0.0.1:8000/webhooks/whatsapp/"


def test_package_runs_as_a_module_and_imports_no_django():
    # when
    result = subprocess.run(
        [sys.executable, "-c", "import sys, sandbox.__main__; print(any(m.startswith(('django', 'config', "
         "'groups', 'messaging', 'webhooks')) for m in sys.modules))"],
        capture_output=True, text=True, check=True, cwd=Path(__file__).resolve().parents[2], timeout=20,
    )
    usage = subprocess.run([sys.executable, "-m", "sandbox", "--help"], capture_output=True, text=True, check=True,
                           cwd=Path(__file__).resolve().parents[2], timeout=20)
    # then
    assert result.stdout.strip() == "False"
    assert "--fault-rate-limit-every" in usage.stdout


def test_verify_does_metas_get_handshake(make_sandbox, receiver):
    # given
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from threading import Thread
    from urllib.parse import parse_qs, urlsplit

    seen: list[dict] = []

    class App(BaseHTTPRequestHandler):
        def do_GET(self):
            query = {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}
            seen.append(query)
            ok = query.get("hub.verify_token") == "the-token"
            body = query["hub.challenge"].encode() if ok else b"no"
            self.send_response(200 if ok else 403)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    app = ThreadingHTTPServer(("127.0.0.1", 0), App)
    Thread(target=app.serve_forever, args=(0.01,), daemon=True).start()
    url = f"http://127.0.0.1:{app.server_address[1]}/webhooks/whatsapp/"
    good = make_sandbox(webhook_url=url, verify_token="the-token")
    bad = make_sandbox(webhook_url=url, verify_token="other")
    # when
    passed = Api(good).control("POST", "verify").json()
    failed = Api(bad).control("POST", "verify").json()
    app.shutdown()
    app.server_close()
    # then
    assert passed == {"verified": True, "status": 200}
    assert failed == {"verified": False, "status": 403}
    assert seen[0]["hub.mode"] == "subscribe"
