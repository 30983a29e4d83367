"""The form page's access: a cookie scoped to ``/intake/<id>`` that proves the client gave the intake's
password or a valid token, for a bounded time, and the CSRF tokens bound to it.

The cookie is ``<nonce>.<expires>.<redirect>.<signature>``: an HMAC (the runtime's ``LinkSigner``, keyed
from the secret key) over the intake id, the nonce, the expiry and the redirect asked for on the first
visit (base64url, kept so that the client lands there after submitting). It names no one and holds no
answer. A cookie of another intake (or with any part changed) is simply no access. Each form carries a
CSRF token derived from the cookie's nonce, so a form posted without the page we served is refused.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from clinicore.kit.links import LinkSigner

COOKIE_NAME = "clinicore_intake"
PASSWORD_CSRF_COOKIE = "clinicore_intake_login"  # noqa: S105 (a cookie's name, not a secret)
ACCESS_LIFETIME = timedelta(hours=2)
MAX_COOKIE_CHARS = 3000
MAX_REDIRECT_CHARS = 2000


def intake_path(intake_id: uuid.UUID) -> str:
    return f"/intake/{intake_id}"


@dataclass(frozen=True, slots=True)
class IntakeAccess:
    """A checked cookie: which intake it opens, until when, and where to go after submitting."""

    intake_id: uuid.UUID
    nonce: str
    expires: int
    redirect: str | None


def _signature(links: LinkSigner, intake_id: uuid.UUID, nonce: str, expires: int, redirect: str) -> str:
    return links.signature(f"intake-access\n{intake_id}\n{nonce}\n{redirect}", expires)


def bounded_redirect(value: str | None) -> str | None:
    """The ``redirect`` asked for, when it can be kept at all (whether it is allowed is the brand's rule)."""
    if not value or len(value) > MAX_REDIRECT_CHARS or not value.isprintable():
        return None
    return value


def issue(links: LinkSigner, *, intake_id: uuid.UUID, now: datetime, redirect: str | None) -> str:
    """A new cookie value for ``intake_id``, valid for ``ACCESS_LIFETIME`` from ``now``."""
    nonce = secrets.token_hex(16)
    expires = int((now + ACCESS_LIFETIME).timestamp())
    kept = bounded_redirect(redirect) or ""
    encoded = base64.urlsafe_b64encode(kept.encode()).decode().rstrip("=")
    return f"{nonce}.{expires}.{encoded}.{_signature(links, intake_id, nonce, expires, kept)}"


def read(links: LinkSigner, value: str | None, *, intake_id: uuid.UUID, now: datetime) -> IntakeAccess | None:
    """The access the cookie gives to ``intake_id``, or None (absent, forged, another intake's, expired)."""
    if not value or len(value) > MAX_COOKIE_CHARS:
        return None
    parts = value.split(".")
    if len(parts) != 4:
        return None
    nonce, expires_text, encoded, signature = parts
    if not (expires_text.isascii() and expires_text.isdigit() and len(expires_text) <= 12):
        return None
    try:
        redirect = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
    except (binascii.Error, ValueError):
        return None
    expires = int(expires_text)
    expected = _signature(links, intake_id, nonce, expires, redirect)
    if not hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace")):
        return None
    if now.timestamp() >= expires:
        return None
    return IntakeAccess(intake_id=intake_id, nonce=nonce, expires=expires, redirect=redirect or None)


def csrf_token(links: LinkSigner, access: IntakeAccess) -> str:
    return links.signature(f"intake-csrf\n{access.intake_id}\n{access.nonce}")


def csrf_matches(links: LinkSigner, access: IntakeAccess, submitted: object) -> bool:
    return isinstance(submitted, str) and hmac.compare_digest(
        submitted.encode("utf-8", "replace"), csrf_token(links, access).encode()
    )


def new_password_csrf() -> str:
    """The password form's pre-session id, for its cookie (no access cookie yet)."""
    return secrets.token_urlsafe(24)


def password_csrf_token(links: LinkSigner, intake_id: uuid.UUID, pre_session_id: str) -> str:
    """The password form's token: an HMAC (keyed from the secret key) of the intake and the pre-session
    cookie, so that a cookie and a field of the same value chosen by someone else never match."""
    return links.signature(f"intake-password-csrf\n{intake_id}\n{pre_session_id}")


def password_csrf_matches(
    links: LinkSigner, intake_id: uuid.UUID, cookie: str | None, submitted: object
) -> bool:
    return (
        bool(cookie)
        and len(cookie or "") <= MAX_COOKIE_CHARS
        and isinstance(submitted, str)
        and hmac.compare_digest(
            submitted.encode("utf-8", "replace"),
            password_csrf_token(links, intake_id, cookie or "").encode(),
        )
    )
