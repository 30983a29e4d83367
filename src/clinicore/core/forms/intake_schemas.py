"""What the intakes core gives its callers, in the core's words: the form as the client fills it
(``IntakeForm``), and an intake as the API and the console show it (``IntakeView``)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from clinicore.core.models import Client, Intake, Practitioner


@dataclass(frozen=True, slots=True)
class AskedQuestion:
    """One question as the intake asked it. ``kind`` is a ``FormQuestionKind`` value; ``choices`` for the
    choice kinds, ``matrix_rows`` and ``matrix_columns`` for a matrix."""

    id: str
    kind: str
    text: str
    help_text: str | None
    required: bool
    choices: list[str] = field(default_factory=list)
    matrix_rows: list[str] = field(default_factory=list)
    matrix_columns: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class AskedSection:
    title: str | None
    description: str | None
    questions: list[AskedQuestion]


@dataclass(frozen=True, slots=True)
class AskedConsent:
    """A consent document as the intake asked it; ``html`` was sanitised when the template stored it."""

    id: str
    name: str
    html: str


@dataclass(frozen=True, slots=True)
class IntakeFileView:
    id: uuid.UUID
    question_id: str
    name: str
    content_type: str
    size: int


@dataclass(frozen=True, slots=True)
class IntakeForm:
    """Everything the form page needs. ``answers``: question id -> value (see ``intakes`` for the value of
    each kind); ``consents``: consent document id -> ``{"signer_name", "signed_at"}``."""

    intake_id: uuid.UUID
    clinic_id: uuid.UUID
    status: str
    form_name: str
    client_name: str
    sections: list[AskedSection]
    consent_documents: list[AskedConsent]
    answers: dict[str, object]
    consents: dict[str, dict[str, str]]
    files: list[IntakeFileView]
    submitted_at: datetime | None

    @property
    def questions(self) -> list[AskedQuestion]:
        return [question for section in self.sections for question in section.questions]


@dataclass(frozen=True, slots=True)
class IntakeView:
    """An intake with its client, practitioner, files and password (decrypted), for the API and the
    console. ``url`` is the form page's address on the clinic's brand host."""

    intake: Intake
    client: Client
    practitioner: Practitioner | None
    form: IntakeForm
    password: str
    url: str


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """A form page sign-in token: shown once (only its digest is kept)."""

    token: str
    url: str
    expires_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class IntakeRequest:
    """Whom and what to ask. The client is named by ``client_number`` (the clinic's client number), by
    ``external_client_id``, or by ``client_name`` with ``client_email`` or ``client_phone`` (made when
    new). ``practitioner`` is our id or the external id; without it, the client's practitioner, else the
    clinic's main one."""

    form_id: str | None
    client_number: int | None = None
    external_client_id: str | None = None
    client_name: str | None = None
    client_email: str | None = None
    client_phone: str | None = None
    practitioner: str | None = None
