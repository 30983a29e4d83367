"""The forms every desk takes: signing in and a button that posts nothing but its CSRF token."""

from __future__ import annotations

from typing import Annotated

from pydantic import StringConstraints

from clinicore.web.console.forms import ConsoleForm


class SignInForm(ConsoleForm):
    email: Annotated[str, StringConstraints(max_length=320)] = ""
    password: Annotated[str, StringConstraints(max_length=1000)] = ""
    next: Annotated[str, StringConstraints(max_length=2000)] = ""


class EmptyForm(ConsoleForm):
    pass
