"""Integrations services: endpoints, fan-out of outbox events, deliveries."""
