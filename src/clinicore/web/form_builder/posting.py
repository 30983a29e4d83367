"""Taking the builder's POST: a capped body, the CSRF token, then a builder action or one core call.

A builder action (add, remove, move) shows the page again with the changed draft and saves nothing. A
save calls the core once inside a SAVEPOINT; when the core refuses, what it wrote is rolled back and the
page shows the draft exactly as it was typed, with the core's message beside the field it names. An
unknown id (``NotFound``) is the console's 404, as for every console form.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from urllib.parse import parse_qsl

from fastapi import HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from clinicore.kit.errors import CoreError, NotFound
from clinicore.web.console.errors import error_status
from clinicore.web.console.session import check_csrf
from clinicore.web.form_builder.draft import (
    MAX_BODY_BYTES,
    MAX_FIELDS,
    FormDraft,
    apply_action,
    draft_from_post,
    field_errors,
    read_action,
)

FORM_ENCODED = "application/x-www-form-urlencoded"

# (draft, {field: message}, status) -> the builder page again
ShowBuilder = Callable[[FormDraft, Mapping[str, str], int], Awaitable[Response]]


async def read_posted_fields(request: Request) -> dict[str, str]:
    """The URL-encoded form, read at most ``MAX_BODY_BYTES`` (413 beyond) and ``MAX_FIELDS`` fields."""
    content_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if content_type != FORM_ENCODED:
        raise HTTPException(415, "Send the form as the page does.")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise HTTPException(413, "The form is too large to save.")
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > MAX_BODY_BYTES:
            raise HTTPException(413, "The form is too large to save.")
    try:
        pairs = parse_qsl(
            body.decode("utf-8", errors="replace"), keep_blank_values=True, max_num_fields=MAX_FIELDS
        )
    except ValueError:
        raise HTTPException(413, "The form has too many fields to save.") from None
    return dict(pairs)


async def submit_builder(
    request: Request,
    session: AsyncSession,
    *,
    csrf_token: str | None,
    save: Callable[[FormDraft], Awaitable[str]],
    show: ShowBuilder,
) -> Response:
    """Take one builder POST. ``save`` calls the core once with the draft and returns where to go next;
    ``show`` renders the builder page with the draft, the field errors and the status."""
    fields = await read_posted_fields(request)
    check_csrf(csrf_token, fields.get("csrf_token"))
    draft = draft_from_post(fields)
    action = read_action(fields.get("builder_action"))
    if action is not None:
        refusal = apply_action(draft, action)
        return await show(draft, field_errors(refusal), 400 if refusal else 200)
    try:
        async with session.begin_nested():
            target = await save(draft)
    except NotFound:
        raise
    except CoreError as exc:
        return await show(draft, field_errors(exc), error_status(exc))
    return RedirectResponse(target, status_code=303)
