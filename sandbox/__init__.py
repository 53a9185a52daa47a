"""A fake Meta (Graph API and webhooks) for Groupdesk; it imports nothing of the apps."""

from sandbox.config import FaultConfig, SandboxConfig, load_config
from sandbox.server import Sandbox

__all__ = ["FaultConfig", "Sandbox", "SandboxConfig", "load_config"]
