"""The Graph side: every Groups API call of spec §4.1-4.16, checked as Meta checks it."""

from __future__ import annotations

import random
import threading
import time

from sandbox.config import SandboxConfig
from sandbox.errors import AuthError, GraphError
from sandbox.graph.common import Request, Response, parse_json
from sandbox.graph.groups import GroupCalls
from sandbox.graph.messages import MessageCalls
from sandbox.simulation import Simulator
from sandbox.state import World


class GraphApi(GroupCalls, MessageCalls):
    """Answer Graph calls from the in-memory world; the simulator sends the webhooks that follow."""

    def __init__(self, *, config: SandboxConfig, world: World, sim: Simulator, rng: random.Random):
        self.config = config
        self.world = world
        self.sim = sim
        self.rng = rng
        self._calls = 0
        self._calls_lock = threading.Lock()

    # -- entry point ---------------------------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        """Authenticate, apply faults, route; every refusal becomes Meta's error envelope."""
        try:
            self._authenticate(request)
            parts = request.path[len(self.config.graph_prefix):].strip("/").split("/")
            is_message = len(parts) == 2 and parts[1] == "messages"
            self._faults_before(rate_limit_code=130429 if is_message else 131208)
            response = self._route(request, parts)
        except GraphError as exc:
            return Response(exc.http_status, exc.envelope())
        faults = self.config.faults
        if faults.timeout_rate and self.rng.random() < faults.timeout_rate:
            response.hang = max(response.hang, faults.timeout_seconds)
        return response

    def _authenticate(self, request: Request) -> None:
        header = request.headers.get("authorization", "")
        token = header[7:].strip() if header[:7].lower() == "bearer " else request.query.get("access_token", "")
        if not token:
            raise AuthError("An active access token must be used to query information about the current user.")
        if token != self.config.access_token:
            raise AuthError("Session has expired or the token is invalid.")

    def _faults_before(self, *, rate_limit_code: int) -> None:
        faults = self.config.faults
        with self._calls_lock:
            self._calls += 1
            position = (self._calls - 1) % (faults.rate_limit_every + faults.rate_limit_burst) \
                if faults.rate_limit_every else -1
        if faults.slow_rate and self.rng.random() < faults.slow_rate:
            time.sleep(faults.slow_seconds)
        if position >= faults.rate_limit_every:
            raise GraphError(rate_limit_code, "Rate limit burst (sandbox fault mode). Retry later.", http_status=429)
        if faults.error_rate and self.rng.random() < faults.error_rate:
            if self.rng.random() < 0.5:
                raise GraphError(131000, "Something went wrong (sandbox fault mode).",
                                 message="(#131000) Something went wrong")
            raise GraphError(2, "Service temporarily unavailable (sandbox fault mode).",
                             message="(#2) Service temporarily unavailable")

    def _route(self, request: Request, parts: list[str]) -> Response:
        method = request.method
        with self.world.lock:
            if len(parts) == 2 and parts[1] in ("groups", "messages") and parts[0].isdigit():
                phone = self.world.phone_number(parts[0])
                if parts[1] == "groups" and method == "POST":
                    return self.create_group(phone, parse_json(request))
                if parts[1] == "groups" and method == "GET":
                    return self.list_groups(phone, request.query)
                if parts[1] == "messages" and method == "POST":
                    return self.send_message(phone, parse_json(request))
            elif 1 <= len(parts) <= 2 and parts[0]:
                action = parts[1] if len(parts) == 2 else ""
                handler = {
                    ("GET", ""): self.get_info,
                    ("POST", ""): self.update_settings,
                    ("DELETE", ""): self.delete_group,
                    ("GET", "invite_link"): self.get_invite_link,
                    ("POST", "invite_link"): self.reset_invite_link,
                    ("DELETE", "invite_link"): self.delete_invite_link,
                    ("GET", "join_requests"): self.list_join_requests,
                    ("POST", "join_requests"): self.approve_join_requests,
                    ("DELETE", "join_requests"): self.reject_join_requests,
                    ("DELETE", "participants"): self.remove_participants,
                    ("POST", "participants"): self.add_participants,
                }.get((method, action))
                if handler is not None:
                    group = self.world.live_group(parts[0])
                    if group is None:
                        raise GraphError(131041, "No group with this ID exists for this business phone number, "
                                                 "or the business is no longer a member of it.")
                    return handler(group, request)
        raise GraphError(100, f"Unsupported {method.lower()} request. Object with ID '{parts[0]}' does not exist, "
                              "cannot be loaded due to missing permissions, or does not support this operation.",
                         message=f"Unsupported {method.lower()} request.")
