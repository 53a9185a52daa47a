"""How a person is shown everywhere (admin lists, receipts, audit targets): one function, one format."""


def person_label(*, name: str = "", wa_id: str | None = None, user_id: str | None = None, fallback: str = "?") -> str:
    """Return "Name (identity)" or just the identity: the phone number with its "+", else the BSUID, else `fallback`.

    The "+" is how the workspace and the timeline write a number (Meta's wa_id has none), so lists and
    confirmation pages name the same person the same way.
    """
    phone = f"+{wa_id}" if wa_id and wa_id.isdigit() else wa_id
    who = phone or user_id or fallback
    return f"{name} ({who})" if name else who
