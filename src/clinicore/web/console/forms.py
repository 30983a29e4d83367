"""How every console form is taken: one POST, one core call, one answer.

1. The CSRF token is checked against the token of the page that served the form.
2. The form is read into its model (``form_models``); a field that does not read is the page again, 400,
   with a message naming the field. Text that cannot be stored (a NUL character, which PostgreSQL
   refuses, or a lone surrogate) never reads, in any field of any form: ``ConsoleForm`` refuses it.
3. The core is called once, inside a SAVEPOINT. When it refuses (a ``CoreError``), everything it wrote is
   rolled back before the page is shown again with the reason: the request's transaction commits after
   the page is rendered, and would otherwise keep what the core flushed before it refused.
4. On success: a redirect (303) to where the action says, with its notice in the URL when the page has
   one, or the response the action built (a page shown once, a sign-in that sets cookies).

An unknown id (``NotFound``) is not a form error: the request fails with the console's 404 page and
nothing it did is kept.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator
from pydantic_core import ErrorDetails
from sqlalchemy.ext.asyncio import AsyncSession

from clinicore.kit.errors import CoreError, InvalidInput, NotFound
from clinicore.kit.text import Unstorable, unstorable
from clinicore.web.console.errors import error_status
from clinicore.web.console.session import check_csrf


class ConsoleForm(BaseModel):
    """A form as a page posts it: every field a string, named as in the page; ``csrf_token`` and fields
    the model does not name are ignored. A field's reader may refuse with an ``InvalidInput`` that names
    the field as the page labels it (Pydantic passes any error that is not a ``ValueError`` through)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _storable_text(cls, submitted: Any) -> Any:
        """No field may hold text the database cannot store: refused naming the field, never stripped."""
        if isinstance(submitted, Mapping):
            for name, value in submitted.items():
                reason = unstorable_text(value) if isinstance(value, str) else None
                if reason is not None:
                    raise InvalidInput(f"{name}: {reason}", field=str(name))
        return submitted


# How a page says why a text was refused (kit/text.py decides whether it is); the core's words for the
# same refusal (provider_admin, client_search).
UNSTORABLE_WORDS = {
    Unstorable.nul: "contains a control character",
    Unstorable.lone_surrogate: "contains a character that is not valid Unicode",
}


def unstorable_text(text: str) -> str | None:
    """Why ``text`` cannot be stored, in a page's words, or None when it can."""
    reason = unstorable(text)
    return UNSTORABLE_WORDS[reason] if reason else None


FormT = TypeVar("FormT", bound=ConsoleForm)


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a form was refused, and what was typed in it, for the page shown again."""

    error: CoreError
    form: Mapping[str, str] = field(default_factory=dict)

    @property
    def message(self) -> str:
        return self.error.message

    @property
    def status_code(self) -> int:
        return error_status(self.error)


def refusal_context(refusal: Refusal | None) -> dict[str, Any]:
    """What a page with forms renders from a refusal: the reason (``error``), what was typed (``form``), and
    the status to answer with."""
    if refusal is None:
        return {"status_code": 200, "error": None, "form": {}}
    return {"status_code": refusal.status_code, "error": refusal.message, "form": refusal.form}


async def submitted_fields(request: Request) -> dict[str, str]:
    """The posted form's text fields (a file in a console form is ignored)."""
    posted = await request.form()
    return {name: value for name, value in posted.items() if isinstance(value, str)}


def read_form(model: type[FormT], submitted: Mapping[str, str]) -> FormT:
    """The form as its model, or an ``InvalidInput`` naming the first field that does not read."""
    try:
        return model.model_validate(submitted)
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0]) if first["loc"] else None
        wording = _wording(first)
        raise InvalidInput(f"{name}: {wording}" if name else wording, field=name) from None


def _wording(error: ErrorDetails) -> str:
    context = error.get("ctx", {})
    if error["type"] == "string_too_long":
        return f"at most {context['max_length']} characters"
    if error["type"] == "missing":
        return "required"
    return error["msg"][:1].lower() + error["msg"][1:]


async def submit_form(
    request: Request,
    session: AsyncSession,
    *,
    csrf_token: str | None,
    form: type[FormT],
    act: Callable[[FormT], Awaitable[str | Response]],
    refused: Callable[[Refusal], Awaitable[Response]],
) -> Response:
    """Take one console form: ``act`` calls the core once and returns the path to redirect to (or a
    response); ``refused`` shows the page again with the reason and the form as it was typed."""
    submitted = await submitted_fields(request)
    check_csrf(csrf_token, submitted.get("csrf_token"))
    try:
        parsed = read_form(form, submitted)
        async with session.begin_nested():
            outcome = await act(parsed)
    except NotFound:
        raise
    except CoreError as exc:
        return await refused(Refusal(exc, submitted))
    return outcome if isinstance(outcome, Response) else RedirectResponse(outcome, status_code=303)
