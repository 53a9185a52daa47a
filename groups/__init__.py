"""Groups: phone numbers, groups, participants, join requests, operations and their events."""
