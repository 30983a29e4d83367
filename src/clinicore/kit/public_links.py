"""The signer of the links this process hands out, for the code that has no request to ask.

A link is made from the process's settings (``CLINICORE_SECRET_KEY``, ``CLINICORE_BASE_URL``). Most code
gets its ``LinkSigner`` from the request or the worker's runtime; the appointment views
(``core/scheduling/details.py``) are also built inside the core's booking functions, for the events
whose webhook bodies carry a video room's links, where no runtime is at hand. Every ``Runtime`` sets the
signer here when it is made (one process has one secret and one base URL).
"""

from __future__ import annotations

from clinicore.kit.links import LinkSigner

_signer: LinkSigner | None = None


def configure(signer: LinkSigner) -> None:
    global _signer
    _signer = signer


def signer() -> LinkSigner:
    if _signer is None:
        raise RuntimeError("no link signer: links are made once the process's Runtime exists")
    return _signer
