"""Load Meta's samples from tests/fixtures/meta (vendored from the spec): the only source of payloads in tests."""

import hashlib
import hmac
import json
from functools import cache
from pathlib import Path

# In the repository, so the suite passes wherever it is cloned
# (tests/fixtures/meta/README.md says where each came from).
SPEC_DIR = Path(__file__).resolve().parent / "fixtures" / "meta"

# The identifiers every sample shares (spec §0).
SPEC_WABA_ID = "102290129340398"
SPEC_PHONE_NUMBER_ID = "106540352242922"
SPEC_DISPLAY_PHONE_NUMBER = "15550783881"
SPEC_G1 = "Y2FwaV9ncm91cDoxNTU1MDc4Mzg4MToxMjAzNjM0MDUxMTgyNjM3NDUZD"
SPEC_G2 = "Y2FwaV9ncm91cDoxNTU1MDc4Mzg4MToxMjAzNjM0MDUyMjc0MTkwMzYZD"
SPEC_G3 = "Y2FwaV9ncm91cDoxNTU1MDc4Mzg4MToxMjAzNjM0MDUzMDk5NTQ4MTIZD"


@cache
def webhook_body(name: str) -> bytes:
    """Return the exact bytes of `webhooks/<name>.json`."""
    return (SPEC_DIR / "webhooks" / f"{name}.json").read_bytes()


def webhook_names() -> list[str]:
    """Return the name of every webhook sample, sorted."""
    return sorted(path.stem for path in (SPEC_DIR / "webhooks").glob("*.json"))


def graph_json(name: str) -> dict:
    """Return `graph/<name>.json` parsed (a fresh copy each call)."""
    return json.loads((SPEC_DIR / "graph" / f"{name}.json").read_text())


def graph_names(prefix: str = "") -> list[str]:
    """Return the names of the Graph samples starting with `prefix`, sorted."""
    return sorted(path.stem for path in (SPEC_DIR / "graph").glob(f"{prefix}*.json"))


def sign(body: bytes, secret: str | None = None) -> str:
    """Return the `X-Hub-Signature-256` header value Meta would send for `body`."""
    from django.conf import settings

    key = (secret if secret is not None else settings.WHATSAPP_APP_SECRET).encode()
    return "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()
