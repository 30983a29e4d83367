"""How a core error shows on a console form: the page again with the message, and this status."""

from __future__ import annotations

from clinicore.kit.errors import Conflict, CoreError


def error_status(error: CoreError) -> int:
    return 409 if isinstance(error, Conflict) else 400
