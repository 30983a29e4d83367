"""Login CSRF: a sign-in form's token bound to a pre-session id by an HMAC of the server's secret key.

Before anyone signs in there is no session to bind a form to, so the sign-in page makes one: a random
pre-session id goes into an HttpOnly cookie, and the form carries ``HMAC(secret key, purpose, id)``.
On POST the token is computed again from the cookie and compared in constant time. A cookie and a field
holding the same value chosen by an attacker do not match (the attacker cannot compute the HMAC), and a
token of one purpose (the console's) opens no other (a desk's).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

PRE_SESSION_ID_BYTES = 32
MAX_PRE_SESSION_ID_CHARS = 100
_KEY_PURPOSE = b"clinicore/login-csrf"


def new_pre_session_id() -> str:
    return secrets.token_urlsafe(PRE_SESSION_ID_BYTES)


def login_token(secret_key: str, *, purpose: str, pre_session_id: str) -> str:
    """The form's token for ``pre_session_id`` (the cookie's value)."""
    key = hmac.new(secret_key.encode(), _KEY_PURPOSE, hashlib.sha256).digest()
    return hmac.new(key, f"{purpose}\n{pre_session_id}".encode(), hashlib.sha256).hexdigest()


def expected_login_token(secret_key: str, *, purpose: str, pre_session_id: str | None) -> str | None:
    """The token a form must carry for the cookie's ``pre_session_id``; None when the cookie is missing
    or not one we could have set (then no token matches)."""
    if (
        not pre_session_id
        or len(pre_session_id) > MAX_PRE_SESSION_ID_CHARS
        or not pre_session_id.isascii()
        or not pre_session_id.replace("-", "").replace("_", "").isalnum()
    ):
        return None
    return login_token(secret_key, purpose=purpose, pre_session_id=pre_session_id)


def login_token_matches(
    secret_key: str, *, purpose: str, pre_session_id: str | None, submitted: object
) -> bool:
    expected = expected_login_token(secret_key, purpose=purpose, pre_session_id=pre_session_id)
    return (
        expected is not None
        and isinstance(submitted, str)
        and hmac.compare_digest(expected.encode(), submitted.encode("utf-8", "replace"))
    )
