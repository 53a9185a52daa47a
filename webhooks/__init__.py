"""Webhooks: Meta's endpoint, signature checks, the raw event store, dispatch and replay."""
