"""The pharmacy desk's forms. Every field is bounded here; what a value must be is the core's rule."""

from __future__ import annotations

from typing import Annotated

from pydantic import StringConstraints

from clinicore.web.console.forms import ConsoleForm


class ShipForm(ConsoleForm):
    carrier: Annotated[str, StringConstraints(max_length=50)] = ""
    tracking_number: Annotated[str, StringConstraints(max_length=100)] = ""
    delivery_service: Annotated[str, StringConstraints(max_length=100)] = ""
