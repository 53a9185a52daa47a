"""The outbox: every event integrators can receive, written in the transaction of the change it reports."""
