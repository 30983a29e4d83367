"""Intakes: a form template given to one client to fill, through the form page, and read back by the
clinic (API, console, PDF).

- **Snapshot.** Creating an intake copies the template's sections, questions and consent documents into
  the intake, with the template's revision: a later change of the template never changes an intake.
- **Client.** Named by the clinic's client number, by the external client id, or by a name with an email
  or a phone (``people.client_for_contact``: found by email, or by a phone without email, else made). An
  external id no client has yet, given with contact details, is written on the client found or made
  when that client has none. Nothing else names a client: a 400 naming the fields.
- **Practitioner.** Our id or the external id; without one, the client's practitioner, else the clinic's
  main practitioner. A disabled practitioner is refused.
- **Refusals.** A clinic whose forms are switched off (``forms_enabled`` false) makes no intake, and its
  intakes can be neither opened nor filled while they are off (nor a deleted practice's); an
  archived template, another clinic's or a partner's template, or a treatment note (filled by staff,
  never sent to clients) is refused.
- **Password.** Six random digits (``secrets``), retrievable by design (the API answers it), so stored
  encrypted with the runtime's ``SecretBox``. ``MAX_PASSWORD_ATTEMPTS`` wrong passwords in a row lock the
  password for ``PASSWORD_LOCK`` (a token still opens the intake); a right one resets the count.
- **Tokens.** 40 lower-case hexadecimal characters (160 random bits), kept as a SHA-256 digest only,
  valid for ``TOKEN_LIFETIME``; each call makes a new one and expired ones are forgotten then.
- **Answers** by question kind: text and long text a string; number a string holding a decimal number;
  date ``YYYY-MM-DD``; single choice one of the choices; multiple choice a list of choices; matrix
  ``{row: column}`` for the rows answered; file upload and signature the id of an ``IntakeFile`` of this
  intake and question (a signature is a PNG). Choices, rows and columns are matched without case and
  stored as the form spells them. A blank value (``None``, ``""``, ``[]``, ``{}``) clears an answer.
  Saving merges the answers given into the stored ones, all or nothing.
- **Consent signatures** (document id -> signer name, at most ``MAX_SIGNER_NAME`` characters) are kept
  by saving and by submitting alike: a name signs the document (signing again under the same name keeps
  when it was first signed), an empty name clears its signature, a document not sent keeps what it had.
- **Submitting** checks every answer, that every required question is answered and every consent
  document signed (a signer name), then the intake is read-only: ``intake.submitted`` is emitted (the
  webhooks) and the staff are emailed (the intake's practitioner, else the clinic's email) a link: the
  partner's Form Notification URL with ``[form-id]`` replaced, else our console's intake page.
- **Files** are judged by their bytes, never by the name or the type the browser claims: PDF, PNG,
  JPEG, GIF, WEBP, HEIC or plain UTF-8 text; signatures PNG only; ``MAX_FILES_PER_INTAKE`` at most.
- Every act is audited (no answer, password or token in the details).
"""

from __future__ import annotations

import math
import re
import secrets
import uuid
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import filetype  # type: ignore[import-untyped]
from sqlalchemy.ext.asyncio import AsyncSession

from clinicore.core.audit import service as audit_service
from clinicore.core.audit.service import Actor
from clinicore.core.events import service as event_service
from clinicore.core.forms import intake_repository as repository
from clinicore.core.forms import service as form_service
from clinicore.core.forms.intake_schemas import (
    AskedConsent,
    AskedQuestion,
    AskedSection,
    IntakeFileView,
    IntakeForm,
    IntakeRequest,
    IntakeView,
    IssuedToken,
)
from clinicore.core.forms.schemas import FormContents, FormOwner
from clinicore.core.models import (
    Client,
    Clinic,
    FormKind,
    FormQuestionKind,
    Intake,
    IntakeFile,
    IntakeStatus,
    IntakeToken,
    Practitioner,
)
from clinicore.core.notify import service as notify_service
from clinicore.core.people import service as people_service
from clinicore.core.staff import service as staff_service
from clinicore.core.tenancy.brand import brand_for_clinic
from clinicore.kit.clock import Clock
from clinicore.kit.contact import normalise_email, normalise_phone
from clinicore.kit.crypto import SecretBox, digests_match, sha256_hex
from clinicore.kit.errors import Conflict, Forbidden, InvalidInput, NotFound, RateLimited
from clinicore.kit.local_time import start_of_local_day
from clinicore.kit.storage import FileStorage
from clinicore.kit.text import unstorable

SUBJECT = "intake"
PASSWORD_DIGITS = 6
MAX_PASSWORD_INPUT = 100
MAX_PASSWORD_ATTEMPTS = 5
PASSWORD_LOCK = timedelta(minutes=15)
TOKEN_BYTES = 20  # 40 hexadecimal characters, as the doc's sample token
MAX_TOKEN_INPUT = 200
TOKEN_LIFETIME = timedelta(hours=24)
PAGE_SIZE = 100
MAX_PAGE = 100_000
MAX_CLIENT_SEARCH = 200
MAX_NAME = 200
MAX_EXTERNAL_ID = 200
MAX_TEXT_ANSWER = 2_000
MAX_LONG_TEXT_ANSWER = 20_000
MAX_NUMBER_ANSWER = 40
MAX_SIGNER_NAME = 200
MAX_FILE_NAME = 255
MAX_FILES_PER_INTAKE = 100
MAX_ANSWERS = 1_000  # more answers than a form can have questions (300) is never a real request
# Sniffed type -> extension of the stored file.
ACCEPTED_FILE_TYPES = {
    "application/pdf": "pdf",
    "image/png": "png",
    "image/jpeg": "jpg",
    "image/gif": "gif",
    "image/webp": "webp",
    "image/heic": "heic",
    "text/plain": "txt",
}
ACCEPTED_FILE_NAMES = "PDF, PNG, JPEG, GIF, WEBP, HEIC or plain text"
SNIFF_BYTES = 8192
FILE_KINDS = {FormQuestionKind.file_upload, FormQuestionKind.signature}
NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")
DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_UNSAFE_NAME_CHARACTERS = re.compile(r"[^A-Za-z0-9 ._()+-]")


class IncompleteIntake(InvalidInput):
    """Submitting with required questions unanswered or consent documents unsigned: ``missing`` lists
    their ids (questions first, in form order, then consent documents)."""

    def __init__(self, message: str, *, missing: Sequence[str]) -> None:
        super().__init__(
            message,
            field="answers",
            subject=SUBJECT,
            rule="intakes.incomplete",
            params={"missing": list(missing)},
        )
        self.missing = list(missing)


@dataclass(frozen=True, slots=True)
class IntakeSummary:
    """One line of a list of intakes."""

    intake: Intake
    client: Client
    practitioner: Practitioner | None


def _refuse(message: str, field: str, *, rule: str | None = None) -> InvalidInput:
    return InvalidInput(message, field=field, subject=SUBJECT, rule=rule)


def parse_intake_id(value: str | uuid.UUID) -> uuid.UUID | None:
    """An intake id from a path: a GUID with or without dashes, in any case; None when it is not one."""
    if isinstance(value, uuid.UUID):
        return value
    text = value.strip()
    if not text or len(text) > 64:
        return None
    try:
        return uuid.UUID(text)
    except ValueError:
        return None


# --- snapshots (pure) -----------------------------------------------------------------------------


def snapshot_of(contents: FormContents) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The template's sections with their questions, and its consent documents, as the intake keeps them."""
    sections = [
        {
            "title": part.section.title,
            "description": part.section.description,
            "questions": [
                {
                    "id": str(question.id),
                    "kind": question.kind,
                    "text": question.text,
                    "help_text": question.help_text,
                    "required": question.required,
                    "choices": list(question.choices),
                    "matrix_rows": list(question.matrix_rows),
                    "matrix_columns": list(question.matrix_columns),
                }
                for question in part.questions
            ],
        }
        for part in contents.sections
    ]
    documents = [
        {"id": str(document.id), "name": document.name, "html": document.html}
        for document in contents.consent_documents
    ]
    return sections, documents


def asked_sections(intake: Intake) -> list[AskedSection]:
    return [
        AskedSection(
            title=section.get("title"),
            description=section.get("description"),
            questions=[
                AskedQuestion(
                    id=question["id"],
                    kind=question["kind"],
                    text=question["text"],
                    help_text=question.get("help_text"),
                    required=bool(question.get("required")),
                    choices=list(question.get("choices") or []),
                    matrix_rows=list(question.get("matrix_rows") or []),
                    matrix_columns=list(question.get("matrix_columns") or []),
                )
                for question in section.get("questions", [])
            ],
        )
        for section in intake.questions
    ]


def asked_consents(intake: Intake) -> list[AskedConsent]:
    return [
        AskedConsent(id=document["id"], name=document["name"], html=document["html"])
        for document in intake.consent_documents
    ]


def file_view(row: IntakeFile) -> IntakeFileView:
    return IntakeFileView(
        id=row.id, question_id=row.question_id, name=row.name, content_type=row.content_type, size=row.size
    )


def client_display_name(client: Client) -> str:
    return f"{client.first_name} {client.last_name}".strip()


# --- answers (pure) -------------------------------------------------------------------------------


def _is_blank(value: object) -> bool:
    return value is None or (isinstance(value, str | list | dict | tuple) and not _has_content(value))


def _has_content(value: str | list[Any] | dict[Any, Any] | tuple[Any, ...]) -> bool:
    return bool(value.strip()) if isinstance(value, str) else bool(value)


def _bad(question: AskedQuestion, reason: str) -> InvalidInput:
    return InvalidInput(
        f'answers.{question.id} ("{question.text[:80]}"): {reason}',
        field=question.id,
        subject=SUBJECT,
        rule="intakes.bad_answer",
        params={"question_id": question.id},
    )


def _text_answer(question: AskedQuestion, value: object, longest: int) -> str:
    if not isinstance(value, str):
        raise _bad(question, "must be text")
    cleaned = value.strip()
    if unstorable(cleaned) is not None:
        raise _bad(question, "must be plain text (no NUL character, valid Unicode)")
    if len(cleaned) > longest:
        raise _bad(question, f"at most {longest} characters")
    return cleaned


def _canonical(options: Sequence[str], value: object) -> str | None:
    if not isinstance(value, str):
        return None
    wanted = value.strip().casefold()
    return next((option for option in options if option.casefold() == wanted), None)


def check_answer(question: AskedQuestion, value: object, files: Mapping[str, IntakeFileView]) -> object:
    """The answer as stored, or ``InvalidInput`` naming the question. ``value`` is not blank; ``files``
    are the intake's files by id (as text)."""
    kind = question.kind
    if kind == FormQuestionKind.text:
        return _text_answer(question, value, MAX_TEXT_ANSWER)
    if kind == FormQuestionKind.long_text:
        return _text_answer(question, value, MAX_LONG_TEXT_ANSWER)
    if kind == FormQuestionKind.number:
        if isinstance(value, int | float) and not isinstance(value, bool):
            if not math.isfinite(value):
                raise _bad(question, "must be a number")
            value = str(value)
        text = _text_answer(question, value, MAX_NUMBER_ANSWER)
        if not NUMBER.fullmatch(text):
            raise _bad(question, "must be a number (digits, an optional sign and decimal point)")
        return text
    if kind == FormQuestionKind.date:
        text = _text_answer(question, value, 10)
        try:
            if not DATE.fullmatch(text):
                raise ValueError
            date.fromisoformat(text)
        except ValueError:
            raise _bad(question, "must be a date (YYYY-MM-DD)") from None
        return text
    if kind == FormQuestionKind.single_choice:
        chosen = _canonical(question.choices, value)
        if chosen is None:
            raise _bad(question, "must be one of the choices")
        return chosen
    if kind == FormQuestionKind.multiple_choice:
        values = [value] if isinstance(value, str) else value
        if not isinstance(values, list | tuple) or len(values) > len(question.choices):
            raise _bad(question, "must be a list of the choices")
        picked = {_canonical(question.choices, item) for item in values}
        if None in picked:
            raise _bad(question, "must be a list of the choices")
        return [choice for choice in question.choices if choice in picked]
    if kind == FormQuestionKind.matrix:
        if not isinstance(value, Mapping) or len(value) > len(question.matrix_rows):
            raise _bad(question, "must map rows to one column each")
        answered: dict[str, str] = {}
        for row, column in value.items():
            row_name = _canonical(question.matrix_rows, row)
            if row_name is None:
                raise _bad(question, f"no row named {str(row)[:80]!r}")
            if _is_blank(column):
                continue
            column_name = _canonical(question.matrix_columns, column)
            if column_name is None:
                raise _bad(question, f"row {row_name!r}: must be one of the columns")
            answered[row_name] = column_name
        return {row: answered[row] for row in question.matrix_rows if row in answered}
    if kind in FILE_KINDS:
        file = files.get(value.strip().lower()) if isinstance(value, str) and len(value) <= 64 else None
        if file is None or file.question_id != question.id:
            raise _bad(question, "must be the id of a file uploaded for this question")
        return str(file.id)
    raise _bad(question, f"cannot be answered (unknown kind {kind!r})")


def merged_answers(
    form: IntakeForm, given: Mapping[str, object], files: Mapping[str, IntakeFileView]
) -> dict[str, object]:
    """The stored answers with ``given`` checked and merged in (blank clears); all or nothing."""
    if not isinstance(given, Mapping):
        raise _refuse("answers: must map question ids to answers", "answers")
    if len(given) > MAX_ANSWERS:
        raise _refuse(f"answers: at most {MAX_ANSWERS}", "answers")
    questions = {question.id: question for question in form.questions}
    answers = dict(form.answers)
    for question_id, value in given.items():
        question = questions.get(question_id) if isinstance(question_id, str) else None
        if question is None:
            raise _refuse(f"answers: no question {str(question_id)[:64]!r} in this form", "answers")
        checked = None if _is_blank(value) else check_answer(question, value, files)
        if _is_blank(checked):  # a matrix whose rows were all left blank is no answer either
            answers.pop(question_id, None)
        else:
            answers[question_id] = checked
    return answers


def missing_items(
    form: IntakeForm, answers: Mapping[str, object], consents: Mapping[str, object]
) -> list[str]:
    """Ids of the required questions without an answer, then of the consent documents not signed."""
    missing = [q.id for q in form.questions if q.required and _is_blank(answers.get(q.id))]
    missing += [document.id for document in form.consent_documents if document.id not in consents]
    return missing


def sniff_file_type(data: bytes) -> str | None:
    """An accepted type the bytes are, or None: the magic numbers (``filetype``), else plain UTF-8 text
    without control characters."""
    kind = filetype.guess(data[:SNIFF_BYTES])
    mime = getattr(kind, "mime", None)
    if mime is not None:
        return mime if mime in ACCEPTED_FILE_TYPES else None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if any(ord(char) < 32 and char not in "\t\n\r\f" for char in text):
        return None
    return "text/plain"


def clean_file_name(name: str, extension: str) -> str:
    """The browser's file name reduced to its last part in plain characters, or ``file.<ext>``."""
    base = re.split(r"[\\/]", name or "")[-1]
    plain = base.encode("ascii", "ignore").decode()
    cleaned = _UNSAFE_NAME_CHARACTERS.sub("_", plain).strip(" .")[:MAX_FILE_NAME]
    return cleaned or f"file.{extension}"


# --- reading --------------------------------------------------------------------------------------


async def _intake(session: AsyncSession, intake_id: uuid.UUID | str, *, lock: bool = False) -> Intake:
    our_id = parse_intake_id(intake_id)
    intake = None
    if our_id is not None:
        find = repository.lock_intake if lock else repository.get_intake
        intake = await find(session, our_id)
    if intake is None:
        raise NotFound("intake not found")
    return intake


async def _clinic_intake(
    session: AsyncSession,
    *,
    clinic_id: uuid.UUID,
    intake_id: uuid.UUID | str,
    practitioner_scope: Collection[uuid.UUID] | None = None,
) -> Intake:
    """One of the clinic's intakes; outside ``practitioner_scope`` (an assistant's practitioners, None:
    everyone's) it reads as missing, as another clinic's does."""
    our_id = parse_intake_id(intake_id)
    found = None
    if our_id is not None:
        found = await repository.intake_of_clinic(session, clinic_id=clinic_id, intake_id=our_id)
    if found is None or not in_scope(found.practitioner_id, practitioner_scope):
        raise NotFound("intake not found")
    return found


def in_scope(practitioner_id: uuid.UUID | None, practitioner_scope: Collection[uuid.UUID] | None) -> bool:
    return practitioner_scope is None or (
        practitioner_id is not None and practitioner_id in practitioner_scope
    )


async def _files_by_id(session: AsyncSession, intake_id: uuid.UUID) -> dict[str, IntakeFileView]:
    return {str(row.id): file_view(row) for row in await repository.files_of(session, intake_id)}


async def _form(session: AsyncSession, intake: Intake) -> IntakeForm:
    client = await repository.get_client(session, clinic_id=intake.clinic_id, client_id=intake.client_id)
    files = await repository.files_of(session, intake.id)
    return IntakeForm(
        intake_id=intake.id,
        clinic_id=intake.clinic_id,
        status=intake.status,
        form_name=intake.form_name,
        client_name=client_display_name(client) if client is not None else "",
        sections=asked_sections(intake),
        consent_documents=asked_consents(intake),
        answers=dict(intake.answers),
        consents={key: dict(value) for key, value in intake.consents.items()},
        files=[file_view(row) for row in files],
        submitted_at=intake.submitted_at,
    )


async def get_for_filling(session: AsyncSession, *, intake_id: uuid.UUID) -> IntakeForm:
    """The form as its client fills it. Not scoped to a clinic: the caller signed in to this intake."""
    return await _form(session, await _intake(session, intake_id))


def form_url(base_url: str, intake_id: uuid.UUID) -> str:
    return f"{base_url.rstrip('/')}/intake/{intake_id}"


async def _brand_base_url(session: AsyncSession, clinic_id: uuid.UUID, base_url: str) -> str:
    return (await brand_for_clinic(session, clinic_id)).base_url(base_url)


async def intake_view(
    session: AsyncSession,
    *,
    clinic_id: uuid.UUID,
    intake_id: uuid.UUID | str,
    secret_box: SecretBox,
    base_url: str,
    practitioner_scope: Collection[uuid.UUID] | None = None,
) -> IntakeView:
    """One of the clinic's intakes with everything the API's Intake object and the console show; another
    clinic's, or one outside ``practitioner_scope``, reads as missing."""
    intake = await _clinic_intake(
        session, clinic_id=clinic_id, intake_id=intake_id, practitioner_scope=practitioner_scope
    )
    return await _view(session, intake, secret_box=secret_box, base_url=base_url)


async def _view(session: AsyncSession, intake: Intake, *, secret_box: SecretBox, base_url: str) -> IntakeView:
    await session.flush()
    client = await repository.get_client(session, clinic_id=intake.clinic_id, client_id=intake.client_id)
    if client is None:  # the foreign key cascades: an intake always has its client
        raise NotFound("intake not found")
    practitioner = None
    if intake.practitioner_id is not None:
        practitioner = await repository.get_practitioner(
            session, clinic_id=intake.clinic_id, practitioner_id=intake.practitioner_id
        )
    return IntakeView(
        intake=intake,
        client=client,
        practitioner=practitioner,
        form=await _form(session, intake),
        password=secret_box.decrypt(intake.password_encrypted),
        url=form_url(await _brand_base_url(session, intake.clinic_id, base_url), intake.id),
    )


async def intake_summary(
    session: AsyncSession,
    *,
    clinic_id: uuid.UUID,
    intake_id: uuid.UUID | str,
    practitioner_scope: Collection[uuid.UUID] | None = None,
) -> IntakeSummary:
    """One of the clinic's intakes with its client and practitioner; another clinic's, or one outside
    ``practitioner_scope``, reads as missing."""
    intake = await _clinic_intake(
        session, clinic_id=clinic_id, intake_id=intake_id, practitioner_scope=practitioner_scope
    )
    client = await repository.get_client(session, clinic_id=clinic_id, client_id=intake.client_id)
    if client is None:
        raise NotFound("intake not found")
    practitioner = None
    if intake.practitioner_id is not None:
        practitioner = await repository.get_practitioner(
            session, clinic_id=clinic_id, practitioner_id=intake.practitioner_id
        )
    return IntakeSummary(intake=intake, client=client, practitioner=practitioner)


async def list_intakes(
    session: AsyncSession,
    *,
    clinic_id: uuid.UUID,
    client: str | None,
    start: date | None,
    end: date | None,
    page: int,
    include_unsubmitted: bool,
    client_number: int | None = None,
    external_client_id: str | None = None,
    status: IntakeStatus | None = None,
    practitioner_scope: Collection[uuid.UUID] | None = None,
) -> Sequence[IntakeSummary]:
    """The clinic's intakes, newest first, ``PAGE_SIZE`` a page (``page`` from 1). ``client`` finds the
    client by name, email (parts of them, without case) or client number; ``start``/``end`` are dates in
    the clinic's time zone, both included, on the day the intake was made. Only submitted intakes unless
    ``include_unsubmitted``. ``client_number`` and ``external_client_id`` keep one client's intakes;
    ``status`` keeps the intakes in that status (an unsubmitted one needs ``include_unsubmitted``);
    ``practitioner_scope`` (an assistant's practitioners; None: everyone's) keeps those practitioners'."""
    if status is not None and not isinstance(status, IntakeStatus):
        raise _refuse(f"status: one of {', '.join(s.value for s in IntakeStatus)}", "status")
    if page < 1 or page > MAX_PAGE:
        raise _refuse(f"page: must be a whole number from 1 to {MAX_PAGE}", "page")
    text = (client or "").strip()
    if len(text) > MAX_CLIENT_SEARCH:
        raise _refuse(f"client: at most {MAX_CLIENT_SEARCH} characters", "client")
    if start is not None and end is not None and end < start:
        raise _refuse("end: must not be before start", "end")
    clinic = await session.get(Clinic, clinic_id)
    if clinic is None:
        raise NotFound("clinic not found")
    rows = await repository.list_intakes(
        session,
        clinic_id=clinic_id,
        client_text=text or None,
        created_from=start_of_local_day(start, clinic.time_zone) if start else None,
        created_before=start_of_local_day(end + timedelta(days=1), clinic.time_zone)
        if end and end < date.max
        else None,
        include_unsubmitted=include_unsubmitted,
        client_number=client_number,
        external_client_id=_bounded(external_client_id, "external_client_id", MAX_EXTERNAL_ID),
        status=status,
        practitioner_scope=practitioner_scope,
        limit=PAGE_SIZE,
        offset=(page - 1) * PAGE_SIZE,
    )
    practitioners = await repository.practitioners_by_id(
        session, clinic_id=clinic_id, ids=[i.practitioner_id for i, _ in rows if i.practitioner_id]
    )
    return [
        IntakeSummary(
            intake=intake,
            client=found,
            practitioner=practitioners.get(intake.practitioner_id) if intake.practitioner_id else None,
        )
        for intake, found in rows
    ]


# --- creating and sending -------------------------------------------------------------------------


def _bounded(value: str | None, field: str, longest: int) -> str | None:
    cleaned = (value or "").strip()
    if len(cleaned) > longest:
        raise _refuse(f"{field}: at most {longest} characters", field)
    if unstorable(cleaned) is not None:
        raise _refuse(f"{field}: must be plain text", field)
    return cleaned or None


async def _template(session: AsyncSession, clinic_id: uuid.UUID, form_id: str | None) -> FormContents:
    if form_id is None or not form_id.strip():
        raise _refuse("form_id: is required", "form_id")
    try:
        contents = await form_service.get_form(session, owner=FormOwner.clinic(clinic_id), form_id=form_id)
    except NotFound:
        raise NotFound("form_id: no such form in this practice", field="form_id", subject=SUBJECT) from None
    if contents.form.archived:
        raise _refuse("form_id: the form is archived", "form_id", rule="intakes.form_archived")
    if contents.form.kind != FormKind.questionnaire:
        raise _refuse(
            "form_id: a treatment note is filled by the staff, not sent to clients",
            "form_id",
            rule="intakes.not_a_questionnaire",
        )
    return contents


async def _client(
    session: AsyncSession, clinic_id: uuid.UUID, request: IntakeRequest, clock: Clock
) -> Client:
    external_id = _bounded(request.external_client_id, "external_client_id", MAX_EXTERNAL_ID)
    name = _bounded(request.client_name, "client_name", MAX_NAME)
    email = _bounded(request.client_email, "client_email", 320)
    phone = _bounded(request.client_phone, "client_phone", 40)
    if request.client_number is not None:
        found = await repository.client_by_number(session, clinic_id=clinic_id, number=request.client_number)
        if found is None:
            raise NotFound("client_number: no such client", field="client_number", subject=SUBJECT)
        return found
    if external_id is not None:
        found = await repository.client_by_external_id(
            session, clinic_id=clinic_id, external_client_id=external_id
        )
        if found is not None:
            return found
        if name is None or (email is None and phone is None):
            raise NotFound(
                "external_client_id: no such client; give client_name with client_email or client_phone"
                " to add one",
                field="external_client_id",
                subject=SUBJECT,
            )
    if name is None or (email is None and phone is None):
        raise _refuse(
            "client_number: identify the client by client_number, by external_client_id, or by client_name"
            " with client_email or client_phone",
            "client_number",
            rule="intakes.client_required",
        )
    if email is not None:
        email = _contact(lambda: normalise_email(email or "", field="client_email"))
    if phone is not None:
        try:
            phone = normalise_phone(phone, field="client_phone")
        except InvalidInput as error:
            if email is None:  # the phone is the only way to find the client
                raise _refuse(error.message, "client_phone") from None
            phone = (
                None  # integrators send sample numbers (the doc's own is "22222222222"): the email names them
            )
    client = await people_service.client_for_contact(
        session, clinic_id=clinic_id, full_name=name, email=email, phone=phone, clock=clock
    )
    if external_id is not None and not client.external_client_id:
        client.external_client_id = external_id
        client.updated_at = clock.now()
    return client


def _contact(normalise: Any) -> str:
    """A contact detail normalised; the kit's refusal re-raised as the intake's."""
    try:
        return str(normalise())
    except InvalidInput as error:
        raise _refuse(error.message, error.field or "client_email") from None


async def _practitioner(
    session: AsyncSession, clinic_id: uuid.UUID, reference: str | None, client: Client
) -> Practitioner | None:
    if reference is not None and reference.strip():
        try:
            chosen = await staff_service.practitioner_by_reference(
                session, clinic_id=clinic_id, reference=reference[: MAX_EXTERNAL_ID + 1]
            )
        except NotFound:
            raise NotFound(
                "practitioner_id: no such practitioner", field="practitioner_id", subject=SUBJECT
            ) from None
        if not chosen.is_active:
            raise _refuse("practitioner_id: the practitioner is disabled", "practitioner_id")
        return chosen
    if client.practitioner_id is not None:
        owner = await repository.get_practitioner(
            session, clinic_id=clinic_id, practitioner_id=client.practitioner_id
        )
        if owner is not None and owner.is_active:
            return owner
    return await repository.main_practitioner(session, clinic_id)


def new_password() -> str:
    return f"{secrets.randbelow(10**PASSWORD_DIGITS):0{PASSWORD_DIGITS}d}"


def intake_event_payload(intake: Intake, client: Client, clinic: Clinic) -> dict[str, Any]:
    """What the intake events carry: ids only, never an answer or a patient's details."""
    return {
        "intake": {
            "id": str(intake.id),
            "status": intake.status,
            "form_id": str(intake.form_id) if intake.form_id else None,
            "client_id": str(client.id),
            "client_number": client.number,
            "external_client_id": client.external_client_id,
            "practice_id": clinic.practice_id,
            "external_practice_id": clinic.external_practice_id,
            "practitioner_id": str(intake.practitioner_id) if intake.practitioner_id else None,
            "created_at": intake.created_at,
            "submitted_at": intake.submitted_at,
        }
    }


async def _record(
    session: AsyncSession, intake: Intake, action: str, actor: Actor, clock: Clock, **details: Any
) -> None:
    await audit_service.record(
        session,
        clinic_id=intake.clinic_id,
        actor=actor,
        action=action,
        target_type="intake",
        target_id=intake.id,
        details=details or None,
        clock=clock,
    )


async def create_intake(
    session: AsyncSession,
    *,
    clinic: Clinic,
    request: IntakeRequest,
    secret_box: SecretBox,
    base_url: str,
    actor: Actor,
    clock: Clock,
) -> IntakeView:
    """A new intake of one of the clinic's questionnaires for a client (found or made), not sent."""
    if not clinic.forms_enabled:
        raise _refuse(
            "forms_enabled: forms are switched off for this practice",
            "forms_enabled",
            rule="intakes.forms_off",
        )
    contents = await _template(session, clinic.id, request.form_id)
    client = await _client(session, clinic.id, request, clock)
    practitioner = await _practitioner(session, clinic.id, request.practitioner, client)
    sections, documents = snapshot_of(contents)
    now = clock.now()
    intake = Intake(
        id=uuid.uuid4(),
        clinic_id=clinic.id,
        client_id=client.id,
        practitioner_id=practitioner.id if practitioner else None,
        form_id=contents.form.id,
        form_name=contents.form.name,
        form_kind=contents.form.kind,
        form_revision=contents.form.revision,
        questions=sections,
        consent_documents=documents,
        answers={},
        consents={},
        status=IntakeStatus.created,
        password_encrypted=secret_box.encrypt(new_password()),
        failed_password_attempts=0,
        created_at=now,
        updated_at=now,
    )
    session.add(intake)
    await session.flush()
    await _record(session, intake, "intake.created", actor, clock, form_id=str(contents.form.id))
    await event_service.emit(
        session,
        clinic_id=clinic.id,
        type="intake.created",
        aggregate_type="intake",
        aggregate_id=intake.id,
        payload=intake_event_payload(intake, client, clinic),
        clock=clock,
    )
    return await _view(session, intake, secret_box=secret_box, base_url=base_url)


async def send_intake(
    session: AsyncSession,
    *,
    clinic: Clinic,
    request: IntakeRequest,
    secret_box: SecretBox,
    base_url: str,
    actor: Actor,
    clock: Clock,
) -> IntakeView:
    """``create_intake``, then the client is emailed the form's link and password (the client needs an
    email); the intake is ``sent``."""
    view = await create_intake(
        session,
        clinic=clinic,
        request=request,
        secret_box=secret_box,
        base_url=base_url,
        actor=actor,
        clock=clock,
    )
    if not view.client.email:
        raise _refuse(
            "client_email: is required to send a form (the client has none on record)", "client_email"
        )
    brand = await brand_for_clinic(session, clinic.id)
    greeting = f"Hello {view.client.first_name}," if view.client.first_name else "Hello,"
    await notify_service.queue_email(
        session,
        clinic_id=clinic.id,
        to_address=view.client.email,
        subject=f"{brand.clinic_name}: a form to fill in",
        body=(
            f"{greeting}\n\n{brand.clinic_name} asks you to fill in a form before your visit.\n\n"
            f"Open it here: {view.url}\nYour password: {view.password}\n\n"
            "Keep this password to yourself.\n"
        ),
        clock=clock,
    )
    now = clock.now()
    view.intake.status, view.intake.sent_at, view.intake.updated_at = IntakeStatus.sent, now, now
    await _record(session, view.intake, "intake.sent", actor, clock)
    return await _view(session, view.intake, secret_box=secret_box, base_url=base_url)


# --- signing in -----------------------------------------------------------------------------------


async def authenticate(
    session: AsyncSession,
    *,
    intake_id: str,
    password: str | None = None,
    token: str | None = None,
    clock: Clock,
    secret_box: SecretBox,
) -> Intake:
    """The intake its password or a valid token opens. Unknown id: ``NotFound``; wrong password, unknown
    or expired token: ``Forbidden``; a locked password: ``RateLimited``. A wrong password is counted on
    the intake in the caller's transaction: the caller lets it commit."""
    intake = await _intake(session, intake_id, lock=password is not None)
    await _require_forms_on(session, intake)
    now = clock.now()
    if token:
        if len(token) <= MAX_TOKEN_INPUT and await repository.valid_token(
            session, intake_id=intake.id, digest=sha256_hex(token.strip().lower()), now=now
        ):
            await _record(
                session, intake, "intake.signed_in", Actor.patient(intake.client_id), clock, by="token"
            )
            return intake
        if password is None:
            raise Forbidden("the link has expired or is not valid", field="token", subject=SUBJECT)
    if password is None:
        raise Forbidden("password: is required", field="password", subject=SUBJECT)
    locked_until = intake.password_locked_until
    if locked_until is not None and locked_until > now:
        raise RateLimited(
            "too many wrong passwords: try again later",
            retry_after=max(1, math.ceil((locked_until - now).total_seconds())),
        )
    given = password.strip()
    if len(given) <= MAX_PASSWORD_INPUT and digests_match(
        given, secret_box.decrypt(intake.password_encrypted)
    ):
        intake.failed_password_attempts, intake.password_locked_until = 0, None
        await _record(
            session, intake, "intake.signed_in", Actor.patient(intake.client_id), clock, by="password"
        )
        return intake
    intake.failed_password_attempts += 1
    await _record(session, intake, "intake.password_refused", Actor.patient(intake.client_id), clock)
    if intake.failed_password_attempts >= MAX_PASSWORD_ATTEMPTS:
        intake.failed_password_attempts, intake.password_locked_until = 0, now + PASSWORD_LOCK
        await _record(session, intake, "intake.password_locked", Actor.patient(intake.client_id), clock)
    await session.flush()
    raise Forbidden("wrong password", field="password", subject=SUBJECT)


async def issue_token(
    session: AsyncSession,
    *,
    clinic_id: uuid.UUID,
    intake_id: uuid.UUID | str,
    base_url: str,
    actor: Actor,
    clock: Clock,
) -> IssuedToken:
    """A new sign-in token for one of the clinic's intakes, valid for ``TOKEN_LIFETIME``."""
    intake = await _clinic_intake(session, clinic_id=clinic_id, intake_id=intake_id)
    now = clock.now()
    await repository.forget_expired_tokens(session, intake_id=intake.id, now=now)
    token = secrets.token_hex(TOKEN_BYTES)
    expires_at = now + TOKEN_LIFETIME
    session.add(
        IntakeToken(intake_id=intake.id, digest=sha256_hex(token), expires_at=expires_at, created_at=now)
    )
    await session.flush()
    await _record(session, intake, "intake.token_issued", actor, clock)
    return IssuedToken(
        token=token,
        url=form_url(await _brand_base_url(session, clinic_id, base_url), intake.id),
        expires_at=expires_at,
    )


# --- filling --------------------------------------------------------------------------------------


def _require_open(intake: Intake) -> None:
    if intake.status == IntakeStatus.submitted:
        raise Conflict("the form was already submitted", rule="intakes.submitted", subject=SUBJECT)


async def _require_forms_on(session: AsyncSession, intake: Intake) -> None:
    """A clinic whose forms are switched off, or which its partner deleted, has no form open to clients."""
    clinic = await session.get(Clinic, intake.clinic_id)
    if clinic is None or not clinic.forms_enabled or clinic.deleted_at is not None or not clinic.is_active:
        raise Forbidden("this practice's forms are closed", rule="intakes.forms_off", subject=SUBJECT)


async def save_progress(
    session: AsyncSession,
    *,
    intake_id: uuid.UUID,
    answers: Mapping[str, object],
    consents: Mapping[str, str],
    clock: Clock,
) -> IntakeForm:
    """Merge valid answers into the stored ones (nothing required yet) and keep the consent signatures
    sent (checked as on submit; an empty signer's name clears that signature); the intake is in progress."""
    intake = await _intake(session, intake_id, lock=True)
    _require_open(intake)
    await _require_forms_on(session, intake)
    form = await _form(session, intake)
    now = clock.now()
    merged = merged_answers(form, answers, {str(f.id): f for f in form.files})
    intake.answers, intake.consents = merged, _signed_consents(form, consents, now)
    intake.status, intake.updated_at = IntakeStatus.in_progress, now
    await session.flush()
    await _record(session, intake, "intake.saved", Actor.patient(intake.client_id), clock)
    return await _form(session, intake)


async def store_file(
    session: AsyncSession,
    storage: FileStorage,
    *,
    intake_id: uuid.UUID,
    question_id: str,
    name: str,
    content_type: str,
    data: bytes,
    clock: Clock,
    max_bytes: int,
) -> IntakeFileView:
    """Keep a file for a file-upload or signature question. ``content_type`` (the browser's word) is not
    trusted: the bytes say what the file is."""
    del content_type  # the bytes decide
    intake = await _intake(session, intake_id, lock=True)
    _require_open(intake)
    await _require_forms_on(session, intake)
    question = next((q for s in asked_sections(intake) for q in s.questions if q.id == question_id), None)
    if question is None or question.kind not in FILE_KINDS:
        raise _refuse("question_id: no file question with this id in this form", "question_id")
    if not data:
        raise _refuse("file: is empty", "file")
    if len(data) > max_bytes:
        raise _refuse(f"file: larger than {max_bytes} bytes", "file", rule="intakes.file_too_large")
    sniffed = sniff_file_type(data)
    if question.kind == FormQuestionKind.signature and sniffed != "image/png":
        raise _refuse("file: a signature must be a PNG image", "file", rule="intakes.signature_not_png")
    if sniffed is None:
        raise _refuse(f"file: must be {ACCEPTED_FILE_NAMES}", "file", rule="intakes.file_type")
    if await repository.count_files(session, intake.id) >= MAX_FILES_PER_INTAKE:
        raise _refuse(
            f"file: at most {MAX_FILES_PER_INTAKE} files an intake", "file", rule="intakes.too_many_files"
        )
    extension = ACCEPTED_FILE_TYPES[sniffed]
    file_id = uuid.uuid4()
    key = f"intakes/{intake.clinic_id.hex}/{intake.id.hex}/{file_id.hex}.{extension}"
    await storage.put(key, data)
    now = clock.now()
    row = IntakeFile(
        id=file_id,
        intake_id=intake.id,
        question_id=question.id,
        name=clean_file_name(name, extension),
        content_type=sniffed,
        size=len(data),
        storage_key=key,
        created_at=now,
    )
    session.add(row)
    intake.status, intake.updated_at = IntakeStatus.in_progress, now
    await session.flush()
    await _record(
        session, intake, "intake.file_stored", Actor.patient(intake.client_id), clock, file_id=str(file_id)
    )
    return file_view(row)


async def read_file(
    session: AsyncSession, storage: FileStorage, *, intake_id: uuid.UUID, file_id: uuid.UUID
) -> tuple[IntakeFileView, bytes]:
    row = await repository.file_of_intake(session, intake_id=intake_id, file_id=file_id)
    if row is None:
        raise NotFound("file not found")
    return file_view(row), await storage.get(row.storage_key)


async def read_clinic_file(
    session: AsyncSession, storage: FileStorage, *, clinic_id: uuid.UUID, file_id: str
) -> tuple[IntakeFileView, bytes]:
    """A file of one of the clinic's intakes (the API's attachment download); another clinic's is missing."""
    our_id = parse_intake_id(file_id)
    row = await repository.file_of_clinic(session, clinic_id=clinic_id, file_id=our_id) if our_id else None
    if row is None:
        raise NotFound("file not found")
    return file_view(row), await storage.get(row.storage_key)


def _signed_consents(
    form: IntakeForm, consents: Mapping[str, str], now: datetime
) -> dict[str, dict[str, str]]:
    """The kept signatures with those sent: an empty name removes that document's signature, a document
    signed again under the same name keeps when it was first signed, one not sent keeps what it had."""
    if not isinstance(consents, Mapping):
        raise _refuse("consents: must map consent document ids to signer names", "consents")
    known = {document.id for document in form.consent_documents}
    signed = dict(form.consents)
    for document_id, signer in consents.items():
        if document_id not in known:
            raise _refuse(f"consents: no consent document {str(document_id)[:64]!r} in this form", "consents")
        if _is_blank(signer):
            signed.pop(document_id, None)
            continue
        if not isinstance(signer, str) or len(signer.strip()) > MAX_SIGNER_NAME or unstorable(signer):
            raise InvalidInput(
                f"consents.{document_id}: the signer's name is text of at most {MAX_SIGNER_NAME} characters",
                field=document_id,
                subject=SUBJECT,
            )
        if signed.get(document_id, {}).get("signer_name") != signer.strip():
            signed[document_id] = {"signer_name": signer.strip(), "signed_at": now.isoformat()}
    return signed


async def submit(
    session: AsyncSession,
    *,
    intake_id: uuid.UUID,
    answers: Mapping[str, object],
    consents: Mapping[str, str],
    clock: Clock,
    actor: Actor,
    base_url: str,
) -> IntakeForm:
    """Check and keep the last answers and the consents, require everything required, and close the
    intake: ``intake.submitted`` is emitted and the staff are emailed. Twice is a ``Conflict``."""
    intake = await _intake(session, intake_id, lock=True)
    _require_open(intake)
    await _require_forms_on(session, intake)
    form = await _form(session, intake)
    now = clock.now()
    merged = merged_answers(form, answers, {str(f.id): f for f in form.files})
    signed = _signed_consents(form, consents, now)
    missing = missing_items(form, merged, signed)
    if missing:
        titles = {q.id: q.text for q in form.questions} | {d.id: d.name for d in form.consent_documents}
        listed = "; ".join(f'"{titles[item][:80]}"' for item in missing[:20])
        more = f" and {len(missing) - 20} more" if len(missing) > 20 else ""
        raise IncompleteIntake(f"answers: still to answer or sign: {listed}{more}", missing=missing)
    intake.answers, intake.consents = merged, signed
    intake.status, intake.submitted_at, intake.updated_at = IntakeStatus.submitted, now, now
    await session.flush()
    clinic = await session.get(Clinic, intake.clinic_id)
    client = await repository.get_client(session, clinic_id=intake.clinic_id, client_id=intake.client_id)
    assert clinic is not None and client is not None  # foreign keys
    await _record(session, intake, "intake.submitted", actor, clock)
    await event_service.emit(
        session,
        clinic_id=intake.clinic_id,
        type="intake.submitted",
        aggregate_type="intake",
        aggregate_id=intake.id,
        payload=intake_event_payload(intake, client, clinic),
        clock=clock,
    )
    await _notify_staff(session, intake, clinic, base_url=base_url, clock=clock)
    return await _form(session, intake)


def staff_link(form_notification_url: str | None, *, base_url: str, intake_id: uuid.UUID) -> str:
    """The partner's Form Notification URL with ``[form-id]`` replaced, else our console's intake page."""
    if form_notification_url:
        # The partner doc names the placeholder [form-id] and shows [formId] in its example: both work.
        return re.sub(r"\[(form-id|formid)\]", str(intake_id), form_notification_url, flags=re.IGNORECASE)
    return f"{base_url.rstrip('/')}/console/intakes/{intake_id}"


async def _notify_staff(
    session: AsyncSession, intake: Intake, clinic: Clinic, *, base_url: str, clock: Clock
) -> None:
    """The intake's practitioner, else the clinic's email; nobody to tell is no error."""
    practitioner = None
    if intake.practitioner_id is not None:
        practitioner = await repository.get_practitioner(
            session, clinic_id=intake.clinic_id, practitioner_id=intake.practitioner_id
        )
    to_address = (practitioner.email if practitioner else None) or clinic.email
    if not to_address:
        return
    brand = await brand_for_clinic(session, clinic.id)
    link = staff_link(brand.form_notification_url, base_url=brand.base_url(base_url), intake_id=intake.id)
    await notify_service.queue_email(
        session,
        clinic_id=clinic.id,
        to_address=to_address,
        subject=f"{brand.clinic_name}: a client submitted a form",
        body=f'A client submitted the form "{intake.form_name}".\n\nOpen it: {link}\n',
        clock=clock,
    )
