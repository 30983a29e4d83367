"""Reading the meeting page's forms into core commands, and bounding an upload's body before it is read.

The answers form names its fields ``choice_<question id>`` (an option id; repeated for a multi-select),
``text_<question id>`` (a free-text answer) and ``other_<option id>`` (an option's free-text box).
"""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import Request
from starlette.datastructures import FormData
from starlette.types import Message

from clinicore.core.telehealth import attachments as attachments_service
from clinicore.core.telehealth.answers import SubmittedAnswer
from clinicore.kit.errors import InvalidInput

# Room for the form fields and multipart framing around a file of the largest accepted size.
FORM_OVERHEAD_BYTES = 64 * 1024
MAX_ID_DIGITS = 12


def _number(value: str, *, field: str) -> int:
    text = value.strip()
    if not text.isdigit() or len(text) > MAX_ID_DIGITS:
        raise InvalidInput(f"{field}: must be a number", field=field)
    return int(text)


def patient_exam_id(value: str) -> int:
    return _number(value, field="patient_exam_id")


def file_required() -> InvalidInput:
    return InvalidInput("file: choose a photo or a file to upload", field="file")


def submitted_answers(form: FormData) -> list[SubmittedAnswer]:
    """The answers the patient gave; a blank free-text answer is no answer."""
    given: list[SubmittedAnswer] = []
    for name, value in form.multi_items():
        if not isinstance(value, str):
            continue
        if name.startswith("choice_"):
            question_id = _number(name.removeprefix("choice_"), field="answers")
            response_id = _number(value, field="answers")
            other = form.get(f"other_{response_id}")
            given.append(
                SubmittedAnswer(
                    question_id=question_id,
                    response_id=response_id,
                    answer_text=other.strip() or None if isinstance(other, str) else None,
                )
            )
        elif name.startswith("text_") and value.strip():
            given.append(
                SubmittedAnswer(
                    question_id=_number(name.removeprefix("text_"), field="answers"), answer=value
                )
            )
    return given


def selected_options(form: FormData | None) -> dict[str, Sequence[str]]:
    """What was typed and ticked, to show the form again after a refusal."""
    if form is None:
        return {}
    return {name: [value for value in form.getlist(name) if isinstance(value, str)] for name in form}


def bound_upload_body(request: Request, *, max_upload_bytes: int) -> None:
    """Refuse an upload larger than the limit before reading it (its Content-Length), and stop reading
    one that turns out larger (chunked, or a lying length), as the API's upload does."""
    limit = max_upload_bytes + FORM_OVERHEAD_BYTES
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise attachments_service.too_large(max_upload_bytes)
    receive = request.receive
    received = 0

    async def bounded_receive() -> Message:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > limit:
                raise attachments_service.too_large(max_upload_bytes)
        return message

    # Starlette reads the body (and the form) only through this channel; it has no public hook for it.
    request._receive = bounded_receive
