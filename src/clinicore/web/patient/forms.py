"""Reading the meeting page's forms into core commands, and bounding an upload's body before it is read.

The answers form names its fields ``choice_<question id>`` (an option id; repeated for a multi-select),
``text_<question id>`` (a free-text answer) and ``other_<option id>`` (an option's free-text box).

Text the database cannot store (a NUL character, which PostgreSQL refuses, or a lone surrogate) is refused
with a 400 naming the field (``storable_text``), never silently stripped.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.datastructures import FormData

from clinicore.core.telehealth.answers import SubmittedAnswer
from clinicore.kit.errors import InvalidInput
from clinicore.web.console.forms import unstorable_text

# Room for the form fields and multipart framing around a file of the largest accepted size.
MAX_ID_DIGITS = 12


def storable_text(value: str, *, field: str) -> str:
    """``value`` itself, or an ``InvalidInput`` naming ``field`` when the database cannot store it."""
    reason = unstorable_text(value)
    if reason is not None:
        raise InvalidInput(f"{field}: {reason}", field=field)
    return value


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
                    answer_text=storable_text(other, field="answers").strip() or None
                    if isinstance(other, str)
                    else None,
                )
            )
        elif name.startswith("text_") and value.strip():
            given.append(
                SubmittedAnswer(
                    question_id=_number(name.removeprefix("text_"), field="answers"),
                    answer=storable_text(value, field="answers"),
                )
            )
    return given


def selected_options(form: FormData | None) -> dict[str, Sequence[str]]:
    """What was typed and ticked, to show the form again after a refusal."""
    if form is None:
        return {}
    return {name: [value for value in form.getlist(name) if isinstance(value, str)] for name in form}
