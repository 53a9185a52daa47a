"""Sandbox settings from command-line flags, then SANDBOX_* (or the app's WHATSAPP_*) environment variables."""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, replace

DEFAULT_PHONE_NUMBER_ID = "106540352242922"  # The spec's sample number, so sample-shaped calls just work.
DEFAULT_DISPLAY_PHONE_NUMBER = "15550783881"
DEFAULT_WABA_ID = "102290129340398"


@dataclass
class FaultConfig:
    """Misbehaviour on purpose, for tests and benchmarks; every rate is a probability from 0 to 1."""

    error_rate: float = 0.0  # Graph calls answered 500 (131000) or 503 (2) without being applied.
    rate_limit_every: int = 0  # After this many calls, a burst of rate-limit answers (0: never).
    rate_limit_burst: int = 5  # How many calls each burst refuses (130429 on messages, 131208 on group ops).
    slow_rate: float = 0.0  # Calls answered only after slow_seconds.
    slow_seconds: float = 2.0
    timeout_rate: float = 0.0  # Calls applied, then answered only after timeout_seconds (a client read timeout).
    timeout_seconds: float = 30.0
    storm_rate: float = 0.0  # Webhook bodies delivered storm_copies extra times.
    storm_copies: int = 5

    def update(self, values: Mapping[str, object]) -> FaultConfig:
        """Return a copy with the given known fields replaced (types follow the defaults)."""
        known = {f.name: type(getattr(self, f.name)) for f in fields(self)}
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise ValueError(f"unknown fault setting(s): {', '.join(unknown)}")
        return replace(self, **{name: known[name](value) for name, value in values.items()})


@dataclass
class SandboxConfig:
    """Everything the sandbox can be told; the defaults suit `make run` (the app on :8000)."""

    host: str = "127.0.0.1"
    port: int = 8001
    access_token: str = "sandbox-access-token"
    app_secret: str = "sandbox-app-secret"
    verify_token: str = "sandbox-verify-token"
    webhook_url: str = "http://127.0.0.1:8000/webhooks/whatsapp/"
    api_version: str = "v25.0"
    phone_number_id: str = DEFAULT_PHONE_NUMBER_ID
    display_phone_number: str = DEFAULT_DISPLAY_PHONE_NUMBER
    waba_id: str = DEFAULT_WABA_ID
    delay_scale: float = 1.0  # Multiplies every simulated delay; 0 makes them (almost) immediate.
    seed: int | None = None
    auto_join: int = 3  # Simulated people who join (or ask to) each new group on their own.
    leave_rate: float = 0.15  # Chance that a simulated member leaves a while after joining.
    read_rate: float = 0.75  # Chance that a participant ever reads a message.
    duplicate_rate: float = 0.05  # Chance that a webhook body is delivered twice.
    reorder_rate: float = 0.05  # Chance that a message's `sent` arrives after its `delivered`.
    webhook_retries: int = 5  # Redeliveries after a non-200 answer, like Meta but bounded.
    webhook_retry_base: float = 1.0  # Seconds before the first redelivery; doubles each time.
    webhook_timeout: float = 10.0
    webhook_concurrency: int = 4  # Meta delivers concurrently.
    faults: FaultConfig = field(default_factory=FaultConfig)

    @property
    def graph_prefix(self) -> str:
        return f"/{self.api_version}/"


# (flag, attribute, type, environment variables in order of precedence, help)
_OPTIONS: list[tuple[str, str, type, tuple[str, ...], str]] = [
    ("--host", "host", str, ("SANDBOX_HOST",), "address to listen on"),
    ("--port", "port", int, ("SANDBOX_PORT",), "port to listen on"),
    ("--access-token", "access_token", str, ("SANDBOX_ACCESS_TOKEN", "WHATSAPP_ACCESS_TOKEN"), "expected Bearer token"),
    ("--app-secret", "app_secret", str, ("SANDBOX_APP_SECRET", "WHATSAPP_APP_SECRET"), "HMAC key of webhooks"),
    ("--verify-token", "verify_token", str, ("SANDBOX_VERIFY_TOKEN", "WHATSAPP_VERIFY_TOKEN"),
     "token of the GET handshake"),
    ("--webhook-url", "webhook_url", str, ("SANDBOX_WEBHOOK_URL",), "where webhooks are POSTed"),
    ("--api-version", "api_version", str, ("SANDBOX_API_VERSION", "WHATSAPP_API_VERSION"), "Graph version in paths"),
    ("--phone-number-id", "phone_number_id", str, ("SANDBOX_PHONE_NUMBER_ID",), "the business number's id"),
    ("--display-phone-number", "display_phone_number", str, ("SANDBOX_DISPLAY_PHONE_NUMBER",), "its digits"),
    ("--waba-id", "waba_id", str, ("SANDBOX_WABA_ID",), "its WhatsApp Business Account id"),
    ("--delay-scale", "delay_scale", float, ("SANDBOX_DELAY_SCALE",), "multiplies every simulated delay"),
    ("--seed", "seed", int, ("SANDBOX_SEED",), "random seed (default: random)"),
    ("--auto-join", "auto_join", int, ("SANDBOX_AUTO_JOIN",), "simulated people joining each new group"),
    ("--leave-rate", "leave_rate", float, ("SANDBOX_LEAVE_RATE",), "chance a member leaves later"),
    ("--read-rate", "read_rate", float, ("SANDBOX_READ_RATE",), "chance a participant reads a message"),
    ("--duplicate-rate", "duplicate_rate", float, ("SANDBOX_DUPLICATE_RATE",), "chance a webhook comes twice"),
    ("--reorder-rate", "reorder_rate", float, ("SANDBOX_REORDER_RATE",), "chance `sent` comes after `delivered`"),
    ("--webhook-retries", "webhook_retries", int, ("SANDBOX_WEBHOOK_RETRIES",), "redeliveries after a non-200"),
    ("--webhook-retry-base", "webhook_retry_base", float, ("SANDBOX_WEBHOOK_RETRY_BASE",), "first retry delay (s)"),
    ("--webhook-timeout", "webhook_timeout", float, ("SANDBOX_WEBHOOK_TIMEOUT",), "webhook POST timeout (s)"),
    ("--webhook-concurrency", "webhook_concurrency", int, ("SANDBOX_WEBHOOK_CONCURRENCY",), "parallel deliveries"),
]
_FAULT_OPTIONS: list[tuple[str, str, type, str]] = [
    ("--fault-error-rate", "error_rate", float, "share of Graph calls answered 500/503"),
    ("--fault-rate-limit-every", "rate_limit_every", int, "calls between bursts of rate-limit errors (0: off)"),
    ("--fault-rate-limit-burst", "rate_limit_burst", int, "calls refused in each burst"),
    ("--fault-slow-rate", "slow_rate", float, "share of Graph calls answered slowly"),
    ("--fault-slow-seconds", "slow_seconds", float, "how slowly"),
    ("--fault-timeout-rate", "timeout_rate", float, "share of Graph calls applied then left hanging"),
    ("--fault-timeout-seconds", "timeout_seconds", float, "how long they hang (longer than the client waits)"),
    ("--fault-storm-rate", "storm_rate", float, "share of webhook bodies redelivered in a storm"),
    ("--fault-storm-copies", "storm_copies", int, "extra copies per storm"),
]


def _fault_env(attribute: str) -> str:
    return "SANDBOX_FAULT_" + attribute.upper()


def build_parser() -> argparse.ArgumentParser:
    """Return the command-line parser; every flag defaults to None so the environment can fill in."""
    parser = argparse.ArgumentParser(
        prog="python -m sandbox",
        description="A fake Meta Graph API and webhook sender for Groupdesk (see sandbox/README.md).",
    )
    for flag, attribute, kind, envs, text in _OPTIONS:
        parser.add_argument(flag, dest=attribute, type=kind, default=None, help=f"{text} (env {', '.join(envs)})")
    for flag, attribute, kind, text in _FAULT_OPTIONS:
        parser.add_argument(flag, dest="fault_" + attribute, type=kind, default=None,
                            help=f"{text} (env {_fault_env(attribute)})")
    return parser


def load_config(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> SandboxConfig:
    """Build the settings: a flag wins over the environment, which wins over the default."""
    environ = os.environ if environ is None else environ
    args = build_parser().parse_args(argv)
    values: dict[str, object] = {}
    for _flag, attribute, kind, envs, _text in _OPTIONS:
        value = getattr(args, attribute)
        if value is None:
            value = next((kind(environ[name]) for name in envs if environ.get(name)), None)
        if value is not None:
            values[attribute] = value
    fault_values: dict[str, object] = {}
    for _flag, attribute, kind, _text in _FAULT_OPTIONS:
        value = getattr(args, "fault_" + attribute)
        if value is None and environ.get(_fault_env(attribute)):
            value = kind(environ[_fault_env(attribute)])
        if value is not None:
            fault_values[attribute] = value
    config = SandboxConfig(**values)
    config.faults = config.faults.update(fault_values)
    return config
