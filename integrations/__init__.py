"""Outbound webhooks: integrators' endpoints, signed deliveries of outbox events, retries and the delivery log."""
