"""What a group operation may ask of Meta, checked before anything reaches it: subject, description, picture,
participants. Each check raises GroupInputInvalid naming the field.
"""

import io

from PIL import Image, UnidentifiedImageError

from groups.exceptions import GroupInputInvalid
from groups.identity import identity_from_input, is_participant_input
from groups.models import Group

PICTURE_MAX_BYTES = 5 * 1024 * 1024  # Meta's limit (spec §2).
PICTURE_MIN_SIDE = 192


def clean_subject(subject: str | None, *, required: bool) -> str | None:
    if subject is None:
        if required:
            raise GroupInputInvalid("A subject is required.", field="subject")
        return None
    subject = subject.strip()  # Meta trims it too (spec §2).
    if not subject:
        raise GroupInputInvalid("The subject must not be empty.", field="subject")
    if len(subject) > Group.SUBJECT_MAX_LENGTH:
        raise GroupInputInvalid(
            f"The subject has {len(subject)} characters; at most {Group.SUBJECT_MAX_LENGTH} are allowed.",
            field="subject",
        )
    return subject


def clean_description(description: str | None) -> str | None:
    if description is None:
        return None
    if len(description) > Group.DESCRIPTION_MAX_LENGTH:
        raise GroupInputInvalid(
            f"The description has {len(description)} characters; at most {Group.DESCRIPTION_MAX_LENGTH} are allowed.",
            field="description",
        )
    return description


def group_picture_validate(*, data: bytes) -> tuple[int, int]:
    """Return (width, height) of a valid group picture.

    Raises GroupInputInvalid (field `file`) unless it is a square JPEG of at least 192 px and at most 5 MB.
    """
    if len(data) > PICTURE_MAX_BYTES:
        raise GroupInputInvalid(f"The picture is {len(data)} bytes; at most 5 MB is allowed.", field="file")
    try:
        with Image.open(io.BytesIO(data)) as image:
            image_format, (width, height) = image.format, image.size
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise GroupInputInvalid("The file is not an image; upload a JPEG.", field="file") from exc
    if image_format != "JPEG":
        raise GroupInputInvalid(f"The picture is {image_format}; only JPEG is accepted.", field="file")
    if width != height:
        raise GroupInputInvalid(f"The picture is {width}x{height}; it must be square.", field="file")
    if width < PICTURE_MIN_SIDE:
        raise GroupInputInvalid(
            f"The picture is {width}x{height}; it must be at least {PICTURE_MIN_SIDE}x{PICTURE_MIN_SIDE}.", field="file"
        )
    return width, height


def clean_participants(participants: list[str]) -> list[str]:
    values = [str(p).strip() for p in participants]
    if not 1 <= len(values) <= Group.MAX_PARTICIPANTS:
        raise GroupInputInvalid(
            f"Give 1 to {Group.MAX_PARTICIPANTS} participants; {len(values)} were given.", field="participants"
        )
    for value in values:
        if not is_participant_input(value):
            raise GroupInputInvalid(
                f"{value!r} is neither a phone number (wa_id, up to 15 digits) nor a business-scoped user ID "
                "(parent or not).", field="participants"
            )
    normalized = [next(v for v in identity_from_input(value) if v) for value in values]
    duplicates = sorted({v for v in normalized if normalized.count(v) > 1})
    if duplicates:
        raise GroupInputInvalid(f"Each participant may appear once; repeated: {', '.join(duplicates)}.",
                                field="participants")
    return values
