"""The Graph side of the sandbox."""

from sandbox.graph.api import GraphApi
from sandbox.graph.common import Request, Response

__all__ = ["GraphApi", "Request", "Response"]
