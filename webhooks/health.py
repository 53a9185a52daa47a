"""Webhook health counters written outside the event store: signature rejections per hour."""

import logging
from datetime import datetime

from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from webhooks.models import SignatureRejection

logger = logging.getLogger(__name__)


def signature_rejection_record(*, at: datetime | None = None) -> None:
    """Count one rejected signature in its hour; a database fault is logged, never raised (the answer stays 403)."""
    hour = (at or timezone.now()).replace(minute=0, second=0, microsecond=0)
    try:
        if SignatureRejection.objects.filter(hour=hour).update(count=F("count") + 1):
            return
        try:
            with transaction.atomic():
                SignatureRejection.objects.create(hour=hour, count=1)
        except IntegrityError:  # Another request created this hour's row first.
            SignatureRejection.objects.filter(hour=hour).update(count=F("count") + 1)
    except DatabaseError:
        logger.exception("signature rejection not counted")
