"""Business phone numbers: explicit registration and the one configured by WHATSAPP_PHONE_NUMBER_ID."""

import logging

from django.conf import settings
from django.db import IntegrityError, transaction

from groups.exceptions import GroupInputInvalid
from groups.models import PhoneNumber

logger = logging.getLogger(__name__)


def phone_number_create(
    *, phone_number_id: str, display_phone_number: str, waba_id: str, label: str = ""
) -> PhoneNumber:
    """Register a business phone number.

    Raises GroupInputInvalid if `phone_number_id` is already registered.
    """
    phone_number_id = phone_number_id.strip()
    if PhoneNumber.objects.filter(phone_number_id=phone_number_id).exists():
        raise GroupInputInvalid("This phone number ID is already registered.", field="phone_number_id")
    return PhoneNumber.objects.create(
        phone_number_id=phone_number_id,
        display_phone_number=display_phone_number.strip().lstrip("+"),
        waba_id=waba_id.strip(),
        label=label.strip(),
    )


def phone_number_register_configured() -> PhoneNumber | None:
    """Register the number named by WHATSAPP_PHONE_NUMBER_ID if missing; return it (None when unset)."""
    phone_number_id = (settings.WHATSAPP_PHONE_NUMBER_ID or "").strip()
    if not phone_number_id:
        return None
    existing = PhoneNumber.objects.filter(phone_number_id=phone_number_id).first()
    if existing:
        return existing
    try:
        with transaction.atomic():
            number = PhoneNumber.objects.create(
                phone_number_id=phone_number_id,
                display_phone_number=(settings.WHATSAPP_DISPLAY_PHONE_NUMBER or "").strip().lstrip("+"),
                waba_id=(settings.WHATSAPP_WABA_ID or "").strip(),
                label="Configured number",
            )
    except IntegrityError:  # Another process registered it first.
        return PhoneNumber.objects.get(phone_number_id=phone_number_id)
    logger.info("groups: registered configured phone number", extra={"phone_number_id": phone_number_id})
    return number


def phone_number_for_webhook(*, phone_number_id: str) -> PhoneNumber | None:
    """Return the number a webhook names, registering the configured one lazily on first sight."""
    number = PhoneNumber.objects.filter(phone_number_id=phone_number_id).first()
    if number is None and phone_number_id and phone_number_id == settings.WHATSAPP_PHONE_NUMBER_ID:
        number = phone_number_register_configured()
    return number
