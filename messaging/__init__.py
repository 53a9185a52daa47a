"""Messaging: outbound messages, statuses, receipts, inbound messages and pins."""
