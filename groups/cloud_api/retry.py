"""The one retry policy of every Graph call we resend (sends, pins, group operations): README "Retries".

Which errors: those Meta's error catalog classes as temporary (`RetryClass.BACK_OFF`, chosen per code in
`catalog.py`). How long: exponential backoff with jitter, 4^n seconds for the pair rate limit. How often:
at most META_RETRY_MAX_ATTEMPTS calls in all. A call whose outcome is unknown is never resent here.
"""

import random

from django.conf import settings

from groups.cloud_api.errors import CloudAPIError

# Meta's advice for the pair rate limit (spec §8): wait 4^n seconds.
PAIR_RATE_LIMIT = 131056


def retry_delay(*, error: CloudAPIError, attempt: int) -> float | None:
    """Return seconds to wait before calling again after `error` ended call number `attempt`, or None: give up."""
    if not error.retryable or attempt >= settings.META_RETRY_MAX_ATTEMPTS:
        return None
    if error.meta_code == PAIR_RATE_LIMIT:
        delay = 4.0**attempt
    else:
        delay = settings.META_RETRY_BASE_SECONDS * 2.0 ** (attempt - 1)
    delay = min(delay, settings.META_RETRY_MAX_SECONDS)
    # Jitter spreads the retries of many workers hit by the same limit at once.
    return delay + random.uniform(0, delay / 2)
