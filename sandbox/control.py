"""The control API under /_sandbox/: drive simulated people and faults from tests and demos."""

from __future__ import annotations

import json
from collections.abc import Callable

from sandbox.config import FaultConfig
from sandbox.simulation import Refused, Simulator
from sandbox.state import Group, Person, World

PREFIX = "/_sandbox/"


class ControlApi:
    """Small JSON endpoints; no authentication (the sandbox listens on loopback by default)."""

    def __init__(self, *, sandbox):  # sandbox.server.Sandbox; untyped to avoid an import cycle.
        self.sandbox = sandbox

    @property
    def world(self) -> World:
        return self.sandbox.world

    @property
    def sim(self) -> Simulator:
        return self.sandbox.sim

    def handle(self, method: str, path: str, body: bytes) -> tuple[int, dict]:
        parts = path[len(PREFIX):].strip("/").split("/")
        try:
            data = json.loads(body) if body.strip() else {}
            if not isinstance(data, dict):
                raise ValueError("not an object")
        except ValueError:
            return 400, {"error": "the body must be a JSON object"}
        try:
            if parts == ["health"] and method == "GET":
                return 200, {"ok": True}
            if parts == ["state"] and method == "GET":
                return 200, {**self.world.snapshot(), "pending_jobs": self.sandbox.pending}
            if parts == ["events", "secret"] and method == "POST":
                # make run hands the demo endpoint's signing secret here, so the inbox checks each signature.
                self.sandbox.inbox.secret = str(data.get("secret") or "") or None
                return 200, {"verifying": self.sandbox.inbox.secret is not None}
            if parts == ["reset"] and method == "POST":
                self.sandbox.reset()
                return 200, {"reset": True}
            if parts == ["verify"] and method == "POST":
                return 200, self.sandbox.dispatcher.verify()
            if parts == ["webhooks"] and method == "GET":
                return 200, {"deliveries": [d.summary() for d in list(self.sandbox.dispatcher.log)]}
            if parts == ["faults"] and method in ("GET", "POST"):
                if method == "POST":
                    self.sandbox.config.faults = self.sandbox.config.faults.update(data)
                return 200, vars(self.sandbox.config.faults)
            if len(parts) == 3 and parts[0] == "groups" and method == "POST":
                action = self._group_actions().get(parts[2])
                if action is not None:
                    with self.world.lock:
                        group = self.world.live_group(parts[1])
                        if group is None:
                            raise Refused(404, f"no live group {parts[1]}")
                        return 200, action(group, data)
        except Refused as exc:
            return exc.status, {"error": exc.message}
        except (TypeError, ValueError) as exc:
            return 400, {"error": str(exc)}
        return 404, {"error": f"no control endpoint {method} {path}"}

    def _group_actions(self) -> dict[str, Callable[[Group, dict], dict]]:
        return {
            "join": self._join,
            "leave": self._leave,
            "revoke": self._revoke,
            "suspend": lambda group, data: self._suspend(group, True),
            "unsuspend": lambda group, data: self._suspend(group, False),
            "inbound": self._inbound,
        }

    def _person(self, group: Group, data: dict, *, member: bool) -> Person:
        wa_id = data.get("wa_id")
        if wa_id is None:
            if member:
                if not group.participants:
                    raise Refused(409, "the group has no participants")
                return self.sim.rng.choice(list(group.participants.values()))
            return self.world.pick_newcomer(group)
        wa_id = str(wa_id).lstrip("+")
        if member:
            if wa_id not in group.participants:
                raise Refused(409, f"{wa_id} is not a participant")
            return group.participants[wa_id]
        person = self.world.people.get(wa_id)
        if person is None:
            person = Person(wa_id, str(data.get("name") or f"Guest {wa_id[-4:]}"))
            self.world.people[wa_id] = person
        return person

    def _join(self, group: Group, data: dict) -> dict:
        person = self._person(group, data, member=False)
        if "name" in data:
            person.name = str(data["name"])
        if "accepts_terms" in data:
            person.accepts_terms = bool(data["accepts_terms"])
        # BSUID era (spec §5.7): the person's business-scoped ids and username, and whether their phone is hidden.
        for key in ("user_id", "parent_user_id", "username"):
            if key in data:
                setattr(person, key, str(data[key]) if data[key] else None)
        if "phone_hidden" in data:
            person.phone_hidden = bool(data["phone_hidden"])
        return self.sim.person_arrives(group, person)

    def _leave(self, group: Group, data: dict) -> dict:
        person = self._person(group, data, member=True)
        self.sim.person_leaves(group, person, with_request_id=bool(data.get("with_request_id")))
        return {"wa_id": person.wa_id, "left": True}

    def _revoke(self, group: Group, data: dict) -> dict:
        pending = group.pending_requests()
        wanted = data.get("join_request_id")
        wa_id = str(data.get("wa_id", "")).lstrip("+")
        matches = [jr for jr in pending if (wanted and jr.join_request_id == wanted) or (wa_id and jr.wa_id == wa_id)
                   or (not wanted and not wa_id)]
        if not matches:
            raise Refused(409, "no such pending join request")
        self.sim.revoke(group, matches[0])
        return {"join_request_id": matches[0].join_request_id, "wa_id": matches[0].wa_id, "revoked": True}

    def _suspend(self, group: Group, suspended: bool) -> dict:
        self.sim.set_suspended(group.group_id, suspended=suspended)
        return {"group_id": group.group_id, "suspended": group.suspended}

    def _inbound(self, group: Group, data: dict) -> dict:
        person = self._person(group, data, member=True)
        text = data.get("text") or "Hello from the sandbox!"
        wamid = self.sim.inbound_text(group, person, str(text), plus=bool(data.get("from_plus")))
        return {"wa_id": person.wa_id, "wamid": wamid}


__all__ = ["PREFIX", "ControlApi", "FaultConfig"]
