"""Reliability tests: redelivery, faults, schema fuzzing (issue 9, R1-R9)."""
