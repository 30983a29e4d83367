"""How a core error shows on a console form: the page again with the message, and this status."""

from __future__ import annotations

from clinicore.kit.errors import Conflict, CoreError, RateLimited, Unauthorized

STATUS_OF_ERROR: dict[type[CoreError], int] = {Conflict: 409, Unauthorized: 401, RateLimited: 429}


def error_status(error: CoreError) -> int:
    return next((status for kind, status in STATUS_OF_ERROR.items() if isinstance(error, kind)), 400)
