"""Standard Webhooks signatures (https://www.standardwebhooks.com, "Signature scheme").

A secret is ``whsec_`` + base64 of 32 random bytes. The signed content is
``{webhook-id}.{webhook-timestamp}.{body}`` and the signature is ``v1,`` + base64 HMAC-SHA256 with the
decoded secret. While a rotated secret is still valid, both signatures go in ``webhook-signature``,
separated by a space, so a receiver holding either secret verifies the message.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from collections.abc import Sequence

SECRET_PREFIX = "whsec_"  # noqa: S105 (the format's prefix, not a secret)
SECRET_BYTES = 32
SIGNATURE_VERSION = "v1"


def generate_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(os.urandom(SECRET_BYTES)).decode()


def secret_key(secret: str) -> bytes:
    """The HMAC key of ``secret``: the base64 part after ``whsec_`` decoded."""
    encoded = secret.removeprefix(SECRET_PREFIX)
    key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    if not key:
        raise ValueError("webhook secret is empty")
    return key


def sign(secret: str, *, msg_id: str, timestamp: int, body: bytes) -> str:
    signed_content = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), signed_content, hashlib.sha256).digest()
    return f"{SIGNATURE_VERSION},{base64.b64encode(digest).decode()}"


def webhook_headers(secrets: Sequence[str], *, msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """``webhook-id``, ``webhook-timestamp`` and ``webhook-signature`` (one signature per secret)."""
    if not secrets:
        raise ValueError("at least one secret is needed to sign")
    signatures = " ".join(sign(secret, msg_id=msg_id, timestamp=timestamp, body=body) for secret in secrets)
    return {"webhook-id": msg_id, "webhook-timestamp": str(timestamp), "webhook-signature": signatures}
