"""How a person is shown everywhere (admin lists, receipts, audit targets): one function, one format."""


def person_label(*, name: str = "", wa_id: str | None = None, user_id: str | None = None, fallback: str = "?") -> str:
    """Return "Name (identity)" or just the identity: the phone number (wa_id), else the BSUID, else `fallback`."""
    who = wa_id or user_id or fallback
    return f"{name} ({who})" if name else who
