"""The security headers of every response, in one place.

- Every response: ``X-Content-Type-Options: nosniff``; in production also
  ``Strict-Transport-Security`` (a year, sub-domains included).
- Pages (every path that is not an API surface, health or metrics): a ``Content-Security-Policy`` that
  allows scripts from our own origin only (no inline script, no ``eval``), ``Referrer-Policy:
  same-origin`` and ``X-Frame-Options`` matching the policy's ``frame-ancestors``.
- ``frame-ancestors`` is ``'self'`` (a page may frame our own attachments), except:
  the console's, which adds the signed-in clinic's partner's ``frame_origins`` that the page dependency
  put on the request (``web/console/frame.py``), and the booking widget's (``/book/...``), which any site
  may embed.
- A route that sets its own policy keeps it: a policy with its own ``default-src`` is complete (the
  intake form page's, stricter); one naming only some directives (``/signin/out``'s ``frame-ancestors
  *``) gets the other directives of the page policy around it.
- A route's own ``Referrer-Policy`` or ``X-Frame-Options`` is kept too (they are stricter); a route that
  answers ``X-Frame-Options: DENY`` gets ``frame-ancestors 'none'``.

Styles may be inline (``'unsafe-inline'`` in ``style-src``): the brand colours are written into the
pages as CSS variables. A style cannot run code; scripts are what the policy is for.
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from clinicore.web.console.frame import FRAME_ORIGINS, allowed_origins, is_console_path

HSTS = "max-age=31536000; includeSubDomains"
REFERRER_POLICY = "same-origin"
EMBEDDABLE_PATHS = ("/book",)
PAGE_POLICY: tuple[tuple[str, str], ...] = (
    ("default-src", "'self'"),
    ("script-src", "'self'"),
    ("style-src", "'self' 'unsafe-inline'"),
    ("img-src", "'self' data: https:"),
    ("connect-src", "'self'"),
    ("media-src", "'self' blob:"),
    ("object-src", "'none'"),
    ("base-uri", "'self'"),
    ("form-action", "'self'"),
    ("frame-ancestors", "'self'"),
)


def _under(path: str, prefixes: Iterable[str]) -> bool:
    return any(path == prefix or path.startswith(prefix + "/") for prefix in prefixes)


def parse_policy(policy: str) -> dict[str, str]:
    """``"a x; b y"`` as ``{"a": "x", "b": "y"}`` (directive names lower-cased, the first of a name wins)."""
    directives: dict[str, str] = {}
    for part in policy.split(";"):
        name, _, value = part.strip().partition(" ")
        if name:
            directives.setdefault(name.lower(), value.strip())
    return directives


def page_policy(frame_ancestors: str, own: str | None = None) -> str:
    """The page policy with the given ``frame-ancestors``, completed around a route's own policy."""
    directives = dict(PAGE_POLICY)
    directives["frame-ancestors"] = frame_ancestors
    if own is not None:
        mine = parse_policy(own)
        if "default-src" in mine:
            return own
        directives.update(mine)
    return "; ".join(f"{name} {value}" for name, value in directives.items())


def frame_options(policy: str) -> str | None:
    """The ``X-Frame-Options`` equal to the policy's ``frame-ancestors``, for browsers that know only the
    older header; none when the policy allows other origins (the header cannot name them)."""
    ancestors = parse_policy(policy).get("frame-ancestors", "'self'")
    return {"'none'": "DENY", "'self'": "SAMEORIGIN"}.get(ancestors)


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp, *, api_paths: Iterable[str], production: bool) -> None:
        self.app = app
        self.api_paths = (*api_paths, "/healthz", "/readyz", "/metrics")
        self.production = production

    def _frame_ancestors(self, scope: Scope) -> str:
        path = scope["path"]
        if _under(path, EMBEDDABLE_PATHS):
            return "*"
        if is_console_path(path):
            origins = allowed_origins(scope.get("state", {}).get(FRAME_ORIGINS, ()))
            return " ".join(("'self'", *origins))
        return "'self'"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        is_page = not _under(scope["path"], self.api_paths)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["X-Content-Type-Options"] = "nosniff"
                if self.production:
                    headers.setdefault("Strict-Transport-Security", HSTS)
                if is_page:
                    # A route that refuses every frame (``X-Frame-Options: DENY``) is not framed by us either.
                    denied = headers.get("x-frame-options", "").upper() == "DENY"
                    ancestors = "'none'" if denied else self._frame_ancestors(scope)
                    policy = page_policy(ancestors, headers.get("content-security-policy"))
                    headers["Content-Security-Policy"] = policy
                    headers.setdefault("Referrer-Policy", REFERRER_POLICY)
                    options = frame_options(policy)
                    if options is not None:
                        headers.setdefault("X-Frame-Options", options)
            await send(message)

        await self.app(scope, receive, send_with_headers)
