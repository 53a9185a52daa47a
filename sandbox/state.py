"""The sandbox's memory of the world: numbers, groups, people, join requests, messages and pins."""

from __future__ import annotations

import base64
import random
import threading
import time
from dataclasses import dataclass, field

MAX_PARTICIPANTS = 8  # Spec §2: the business is not counted.
MAX_PINS = 3  # Spec §4.16: a fourth pin unpins the oldest.

# The spec's sample people first (§0), so demos look like the samples; then made-up ones.
KNOWN_PEOPLE = [
    ("16505551234", "Maya Patel"),
    ("447700900123", "Oliver Grant"),
    ("5511987654321", "Lucas Almeida"),
    ("919876543210", "Priya Nair"),
]
FIRST_NAMES = ["Ana", "Ben", "Chloe", "Diego", "Emma", "Farah", "Goran", "Hana", "Ivan", "Julia", "Kofi", "Lena",
               "Mateo", "Nora", "Omar", "Paula", "Ravi", "Sofia", "Tariq", "Yuki"]
LAST_NAMES = ["Silva", "Novak", "Okafor", "Rossi", "Schmidt", "Tanaka", "Dubois", "Haddad", "Kowalski", "Moreau"]
COUNTRY_PREFIXES = ["34", "39", "49", "33", "351", "48", "234", "81"]


def now() -> int:
    return int(time.time())


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@dataclass
class PhoneNumber:
    phone_number_id: str
    display_phone_number: str
    waba_id: str


@dataclass
class Person:
    wa_id: str  # The sandbox's key for the person, even when their phone is hidden from the business.
    name: str
    accepts_terms: bool = True  # False: approving their join request fails with 131203.
    # BSUID era (spec §5.7, C1): business-scoped ids, a username, and a phone the user may hide.
    user_id: str | None = None
    parent_user_id: str | None = None
    username: str | None = None
    phone_hidden: bool = False

    def identity(self) -> dict:
        """Return how webhooks name the person: wa_id unless hidden, and any BSUID, parent BSUID and username."""
        named = {"wa_id": None if self.phone_hidden else self.wa_id, "user_id": self.user_id,
                 "parent_user_id": self.parent_user_id, "username": self.username}
        return {key: value for key, value in named.items() if value}

    def is_named_by(self, value: str) -> bool:
        """Return True when a removal's `user` names this person: phone (with or without +), BSUID or parent BSUID."""
        return value.lstrip("+") == self.wa_id or value in {self.user_id, self.parent_user_id} - {None}


@dataclass
class JoinRequest:
    join_request_id: str
    wa_id: str
    creation_timestamp: int
    state: str = "pending"  # pending | approved | rejected | revoked


@dataclass
class Pin:
    message_id: str
    pin_wamid: str
    pinned_at: float
    expires_at: float


@dataclass
class Message:
    wamid: str
    phone_number_id: str
    to: str
    recipient_type: str  # group | individual
    type: str
    created_at: int
    biz_opaque_callback_data: str | None = None
    recipients: list[str] = field(default_factory=list)
    statuses: list[str] = field(default_factory=list)  # "sent", "delivered:<wa_id>", ... as sent out


@dataclass
class Group:
    group_id: str
    phone_number_id: str
    subject: str
    description: str
    join_approval_mode: str
    creation_timestamp: int
    request_id: str
    invite_link: str | None = None
    suspended: bool = False
    deleted: bool = False
    deleting: bool = False
    participants: dict[str, Person] = field(default_factory=dict)
    removed: set[str] = field(default_factory=set)  # Removed by the business: the link no longer works for them.
    join_requests: dict[str, JoinRequest] = field(default_factory=dict)
    pins: list[Pin] = field(default_factory=list)  # Oldest first.
    messages: list[str] = field(default_factory=list)  # wamids of messages (not pin actions) sent here.

    @property
    def active(self) -> bool:
        return not self.deleted and not self.deleting

    def active_pins(self, at: float | None = None) -> list[Pin]:
        at = time.time() if at is None else at
        return [pin for pin in self.pins if pin.expires_at > at]

    def pending_requests(self) -> list[JoinRequest]:
        return [jr for jr in self.join_requests.values() if jr.state == "pending"]


class World:
    """All sandbox state; every read and write happens under `lock`, since HTTP threads share it."""

    def __init__(self, *, rng: random.Random, phone_number: PhoneNumber):
        self.lock = threading.RLock()
        self.rng = rng
        self.default_phone_number = phone_number
        self.reset()

    def reset(self) -> None:
        with self.lock:
            phone = self.default_phone_number
            self.phone_numbers: dict[str, PhoneNumber] = {phone.phone_number_id: phone}
            self.groups: dict[str, Group] = {}
            self.pending_creates: dict[str, dict] = {}
            self.messages: dict[str, Message] = {}
            self.people: dict[str, Person] = {wa_id: Person(wa_id, name) for wa_id, name in KNOWN_PEOPLE}
            self._counter = 0

    # -- identifiers, shaped like the spec's samples -------------------------------------------------------------

    def _next(self) -> int:
        self._counter += 1
        return self._counter

    def phone_number(self, phone_number_id: str) -> PhoneNumber | None:
        """Return the number, registering any all-digit id on first use (the sandbox owns every number)."""
        with self.lock:
            phone = self.phone_numbers.get(phone_number_id)
            if phone is None and phone_number_id.isdigit():
                display = "1555" + phone_number_id[-7:].rjust(7, "0")
                phone = PhoneNumber(phone_number_id, display, self.default_phone_number.waba_id)
                self.phone_numbers[phone_number_id] = phone
            return phone

    def new_request_id(self) -> str:
        return f"{self.rng.getrandbits(128):032x}"

    def new_group_id(self, display: str) -> str:
        digits = "1203634" + str(self.rng.randrange(10**10, 10**11)) + str(self._next() % 10)
        return _b64(f"capi_group:{display}:{digits}").replace("=", "ZD")

    def new_invite_link(self) -> str:
        alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"
        return "https://chat.whatsapp.com/" + "".join(self.rng.choices(alphabet, k=22))

    def new_wamid(self, display: str) -> str:
        return "wamid." + _b64(f"\x1c\x18\x0b{display}\x15\x02\x00\x11\x18\x14{self.rng.getrandbits(80):020X}\x00")

    def new_join_request_id(self, wa_id: str, group: Group) -> str:
        return _b64(f"{wa_id}:{self.rng.randrange(10**17, 10**18)}").rstrip("=")

    def new_person(self, exclude: set[str]) -> Person:
        """Return a simulated person not in `exclude`: a sample person if one is free, else a new one."""
        with self.lock:
            for person in self.people.values():
                if person.wa_id not in exclude:
                    return person
            while True:
                wa_id = self.rng.choice(COUNTRY_PREFIXES) + str(self.rng.randrange(10**8, 10**9))
                if wa_id not in self.people:
                    break
            name = f"{self.rng.choice(FIRST_NAMES)} {self.rng.choice(LAST_NAMES)}"
            person = Person(wa_id, name)
            self.people[wa_id] = person
            return person

    def pick_newcomer(self, group: Group) -> Person:
        """Return someone who may still join `group`: not a member, not removed, not already asking."""
        asking = {jr.wa_id for jr in group.pending_requests()}
        exclude = set(group.participants) | group.removed | asking
        candidates = [p for p in self.people.values() if p.wa_id not in exclude]
        if candidates and self.rng.random() < 0.7:
            return self.rng.choice(candidates)
        return self.new_person(exclude)

    # -- reads ---------------------------------------------------------------------------------------------------

    def live_group(self, group_id: str) -> Group | None:
        group = self.groups.get(group_id)
        return group if group is not None and group.active else None

    def snapshot(self) -> dict:
        """Return everything as JSON-ready data, for GET /_sandbox/state."""
        with self.lock:
            at = time.time()
            return {
                "phone_numbers": [vars(p).copy() for p in self.phone_numbers.values()],
                "pending_creates": list(self.pending_creates.values()),
                "groups": [
                    {
                        "group_id": g.group_id,
                        "phone_number_id": g.phone_number_id,
                        "request_id": g.request_id,
                        "subject": g.subject,
                        "description": g.description,
                        "join_approval_mode": g.join_approval_mode,
                        "invite_link": g.invite_link,
                        "creation_timestamp": g.creation_timestamp,
                        "suspended": g.suspended,
                        "state": "deleted" if g.deleted else "deleting" if g.deleting else "active",
                        "participants": [{"wa_id": p.wa_id, "name": p.name} for p in g.participants.values()],
                        "removed": sorted(g.removed),
                        "join_requests": [vars(jr).copy() for jr in g.join_requests.values()],
                        "pins": [
                            {"message_id": p.message_id, "pin_wamid": p.pin_wamid, "expires_at": int(p.expires_at)}
                            for p in g.active_pins(at)
                        ],
                        "messages": list(g.messages),
                    }
                    for g in self.groups.values()
                ],
                "messages": [
                    {key: value for key, value in vars(m).items()} for m in self.messages.values()
                ],
            }
