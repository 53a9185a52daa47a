"""Webhook item handlers: thin adapters from typed payloads to domain services."""
