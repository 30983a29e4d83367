"""Reading the form page's fields into the intakes core's answers, files and consents.

Field names, one family per question kind (``<id>`` is the question's or consent document's id, taken
from the intake's own snapshot, never parsed out of a posted name):

- ``q_<id>``: text, long text, number, date, the single choice's radio, the multiple choice's
  checkboxes (repeated);
- ``m_<id>_<row>``: a matrix row (its 0-based index) with the chosen column's text;
- ``file_<id>``: the id of a file already stored for a file-upload or signature question (kept while the
  client does not replace it); ``upload_<id>``: a new file; ``signature_<id>``: a drawn signature as a
  ``data:image/png;base64,`` URL from the canvas (``intake.js``);
- ``consent_name_<id>`` and ``consent_agree_<id>``: a consent document signed by typing the full name
  and ticking "I agree"; a document whose name field is posted without both is sent as unsigned (an
  empty name), which "Save progress" reads as clearing a saved signature.

Every question of the form is sent, a blank one as ``None`` (or ``[]``, ``{}``): the core merges the
answers given, and a blank one clears what was saved. Text the database cannot store (NUL, a lone
surrogate) is refused naming the question; everything else (bounds, numbers, dates, choices) is the
core's rule.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from starlette.datastructures import FormData, UploadFile

from clinicore.core.forms.intake_schemas import AskedQuestion, IntakeForm
from clinicore.core.models import FormQuestionKind
from clinicore.kit.errors import InvalidInput
from clinicore.web.console.forms import unstorable_text

SIGNATURE_PREFIX = "data:image/png;base64,"
# A signature drawn on a phone-sized canvas is a few tens of kilobytes; this leaves room for a big screen.
MAX_SIGNATURE_CHARS = 2 * 1024 * 1024
FILE_KINDS = frozenset({FormQuestionKind.file_upload.value, FormQuestionKind.signature.value})


@dataclass(slots=True)
class PostedForm:
    """What one post of the form page carried."""

    answers: dict[str, object] = field(default_factory=dict)
    uploads: list[tuple[str, UploadFile]] = field(default_factory=list)
    signatures: dict[str, bytes] = field(default_factory=dict)
    consents: dict[str, str] = field(default_factory=dict)


def _text(question: AskedQuestion, value: object) -> str:
    text = value if isinstance(value, str) else ""
    reason = unstorable_text(text)
    if reason is not None:
        raise InvalidInput(f"{question.text}: {reason}", field=question.id)
    return text.strip()


def _signature(question: AskedQuestion, value: str) -> bytes:
    if len(value) > MAX_SIGNATURE_CHARS or not value.startswith(SIGNATURE_PREFIX):
        raise InvalidInput(
            f"{question.text}: the signature could not be read; draw it again", field=question.id
        )
    try:
        return base64.b64decode(value.removeprefix(SIGNATURE_PREFIX), validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput(
            f"{question.text}: the signature could not be read; draw it again", field=question.id
        ) from None


def read_posted(form: FormData, intake: IntakeForm) -> PostedForm:
    """The answers, new files, signatures and signed consents of a post of ``intake``'s page."""
    posted = PostedForm()
    for question in intake.questions:
        name = f"q_{question.id}"
        kind = question.kind
        if kind == FormQuestionKind.multiple_choice:
            ticked = [_text(question, value) for value in form.getlist(name)]
            posted.answers[question.id] = [value for value in ticked if value]
        elif kind == FormQuestionKind.matrix:
            rows: dict[str, str] = {}
            for index, row in enumerate(question.matrix_rows):
                column = _text(question, form.get(f"m_{question.id}_{index}"))
                if column:
                    rows[row] = column
            posted.answers[question.id] = rows
        elif kind in FILE_KINDS:
            upload = form.get(f"upload_{question.id}")
            drawn = form.get(f"signature_{question.id}")
            kept = _text(question, form.get(f"file_{question.id}"))
            if isinstance(upload, UploadFile) and upload.filename:
                posted.uploads.append((question.id, upload))
            elif isinstance(drawn, str) and drawn:
                posted.signatures[question.id] = _signature(question, drawn)
            else:
                posted.answers[question.id] = kept or None
        else:
            posted.answers[question.id] = _text(question, form.get(name)) or None
    for consent in intake.consent_documents:
        signer = form.get(f"consent_name_{consent.id}")
        name = signer.strip() if isinstance(signer, str) else ""
        if unstorable_text(name) is not None:
            raise InvalidInput(f"{consent.name}: {unstorable_text(name)}", field=consent.id)
        if name and form.get(f"consent_agree_{consent.id}") == "yes":
            posted.consents[consent.id] = name
        elif signer is not None:
            posted.consents[consent.id] = ""  # on the page but not signed: saving clears a kept signature
    return posted


def typed_values(form: FormData | None) -> dict[str, Sequence[str]]:
    """What was typed and ticked (never file contents), to show the form again after a refusal."""
    if form is None:
        return {}
    kept: dict[str, Sequence[str]] = {}
    for name in form:
        if name.startswith(("upload_", "signature_", "csrf_token")):
            continue
        kept[name] = [value for value in form.getlist(name) if isinstance(value, str)]
    return kept


def stored_values(intake: IntakeForm) -> dict[str, Sequence[str]]:
    """The saved answers and signed consents in the page's field names, to show the form as it was left."""
    values: dict[str, Sequence[str]] = {}
    for question in intake.questions:
        answer = intake.answers.get(question.id)
        if answer is None:
            continue
        if question.kind == FormQuestionKind.multiple_choice and isinstance(answer, list):
            values[f"q_{question.id}"] = [str(choice) for choice in answer]
        elif question.kind == FormQuestionKind.matrix and isinstance(answer, Mapping):
            for index, row in enumerate(question.matrix_rows):
                if row in answer:
                    values[f"m_{question.id}_{index}"] = [str(answer[row])]
        elif question.kind in FILE_KINDS:
            values[f"file_{question.id}"] = [str(answer)]
        else:
            values[f"q_{question.id}"] = [str(answer)]
    for consent_id, signed in intake.consents.items():
        signer = signed.get("signer_name") if isinstance(signed, Mapping) else None
        if isinstance(signer, str):
            values[f"consent_name_{consent_id}"] = [signer]
            values[f"consent_agree_{consent_id}"] = ["yes"]
    return values
