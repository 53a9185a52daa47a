"""What the apps above the outbox plug into it: one payload renderer per model, and who receives events.

The outbox sits low (only `config` beneath it), so it names no model of another app: the app that owns a
model registers how it is shown in its AppConfig.ready, and the delivery side registers who subscribes.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from django.db import models


@dataclass(frozen=True)
class Renderer:
    """How events show one model: its object type name and its REST representation."""

    object_type: str
    render: Callable[[Any], dict]


_renderers: dict[type[models.Model], Renderer] = {}


def renderer_register(model: type[models.Model], *, object_type: str, render: Callable[[Any], dict]) -> None:
    """Register how events about `model` show it (`render` returns what the REST API shows of one object)."""
    _renderers[model] = Renderer(object_type=object_type, render=render)


def renderer_for(obj: models.Model) -> Renderer:
    """Return the renderer of `obj`'s model; raises LookupError when its app registered none."""
    try:
        return _renderers[type(obj)]
    except KeyError:
        raise LookupError(f"No outbox renderer registered for {type(obj).__name__}.") from None


class Subscriptions(Protocol):
    """Who receives events, read once per recording call (in its transaction)."""

    def wants(self, type: str) -> bool: ...


@dataclass(frozen=True)
class Subscriber:
    """Something that receives recorded events: reads who wants what, and fans new events out (same transaction)."""

    subscriptions: Callable[[], Subscriptions]
    fan_out: Callable[[Iterable[Any], Subscriptions], None]


_subscribers: list[Subscriber] = []


def subscriber_register(*, subscriptions: Callable[[], Subscriptions],
                        fan_out: Callable[[Iterable[Any], Subscriptions], None]) -> None:
    """Register a receiver of events (integrations' webhook endpoints); registering the same one again is a no-op."""
    subscriber = Subscriber(subscriptions=subscriptions, fan_out=fan_out)
    if subscriber not in _subscribers:
        _subscribers.append(subscriber)


def subscribers() -> list[Subscriber]:
    return list(_subscribers)
