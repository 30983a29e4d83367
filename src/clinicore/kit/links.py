"""Signed links: a URL that carries its own proof (HMAC-SHA256 keyed from the secret key), so that a
meeting link or a document link needs no stored token and cannot be forged or extended.

``sign("/documents/consultations/100001.pdf", expires_at=t)`` gives
``<base_url>/documents/consultations/100001.pdf?expires=<unix>&signature=<hex>``; ``verify`` checks the
signature in constant time and refuses the link once ``expires`` has passed.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime
from urllib.parse import urlencode

_PURPOSE = b"clinicore/signed-links"


class LinkSigner:
    def __init__(self, secret_key: str, base_url: str) -> None:
        self._key = hmac.new(secret_key.encode(), _PURPOSE, hashlib.sha256).digest()
        self.base_url = base_url.rstrip("/")

    def signature(self, path: str, expires: int | None = None) -> str:
        message = path if expires is None else f"{path}\n{expires}"
        return hmac.new(self._key, message.encode(), hashlib.sha256).hexdigest()[:32]

    def sign(self, path: str, *, expires_at: datetime | None = None) -> str:
        """The absolute URL of ``path`` (starting with ``/``), valid until ``expires_at`` (or for ever)."""
        if expires_at is None:
            return f"{self.base_url}{path}?{urlencode({'signature': self.signature(path)})}"
        expires = int(expires_at.timestamp())
        query = urlencode({"expires": expires, "signature": self.signature(path, expires)})
        return f"{self.base_url}{path}?{query}"

    def verify(self, path: str, *, signature: str, expires: int | None, now: datetime) -> bool:
        if not hmac.compare_digest(self.signature(path, expires), signature):
            return False
        return expires is None or now < datetime.fromtimestamp(expires, UTC)
