"""Form templates: a partner's master forms and a clinic's practice forms, their sections, questions and
attached consent documents.

A template belongs to exactly one owner, a partner (a master form) or a clinic (a practice form). A
practice form copied from a master form remembers its source. ``revision`` grows with every change of
the definition, so that a filled form (an intake, later) can say which revision it answered: intakes
keep their own copy of what they asked, and a template may change under them.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from clinicore.core.models.base import Base, UUIDPrimaryKey


class FormKind(StrEnum):
    questionnaire = "questionnaire"
    treatment_note = "treatment_note"


class FormQuestionKind(StrEnum):
    text = "text"
    long_text = "long_text"
    number = "number"
    date = "date"
    single_choice = "single_choice"
    multiple_choice = "multiple_choice"
    matrix = "matrix"  # one column chosen for each row
    file_upload = "file_upload"
    signature = "signature"


class FormTemplate(UUIDPrimaryKey, Base):
    __tablename__ = "form_templates"
    __table_args__ = (
        CheckConstraint(
            "(partner_id IS NULL AND clinic_id IS NOT NULL)"
            " OR (partner_id IS NOT NULL AND clinic_id IS NULL)",
            name="one_owner",
        ),
    )

    partner_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("partners.id", ondelete="CASCADE"), index=True
    )
    clinic_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("clinics.id", ondelete="CASCADE"), index=True
    )
    source_form_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("form_templates.id", ondelete="SET NULL")
    )
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class FormSection(UUIDPrimaryKey, Base):
    __tablename__ = "form_sections"
    __table_args__ = (UniqueConstraint("form_id", "position"),)

    form_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("form_templates.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    title: Mapped[str | None] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)


class FormQuestion(UUIDPrimaryKey, Base):
    """``choices`` for the choice kinds; ``matrix_rows`` and ``matrix_columns`` for a matrix."""

    __tablename__ = "form_questions"
    __table_args__ = (UniqueConstraint("section_id", "position"),)

    form_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("form_templates.id", ondelete="CASCADE"), index=True
    )
    section_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("form_sections.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(String(1000))
    help_text: Mapped[str | None] = mapped_column(String(1000))
    required: Mapped[bool] = mapped_column(Boolean, default=False)
    choices: Mapped[list[str]] = mapped_column(JSON, default=list)
    matrix_rows: Mapped[list[str]] = mapped_column(JSON, default=list)
    matrix_columns: Mapped[list[str]] = mapped_column(JSON, default=list)


class FormConsentDocument(UUIDPrimaryKey, Base):
    """A consent document attached to a form: HTML, sanitised before it is stored."""

    __tablename__ = "form_consent_documents"
    __table_args__ = (UniqueConstraint("form_id", "position"),)

    form_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("form_templates.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    html: Mapped[str] = mapped_column(Text)


class IntakeStatus(StrEnum):
    """``created``: made, not yet sent; ``sent``: emailed to the client; ``in_progress``: the client saved
    some answers; ``submitted``: done, read-only."""

    created = "created"
    sent = "sent"
    in_progress = "in_progress"
    submitted = "submitted"


class Intake(UUIDPrimaryKey, Base):
    """A form given to one client to fill: its own copy of what it asks (``questions``: the template's
    sections and questions, ``consent_documents``), so that a later change of the template changes no
    intake. ``answers`` maps a question id to its value, ``consents`` a consent document id to
    ``{"signer_name", "signed_at"}``. The password is retrievable by design (the API returns it), so it is
    stored encrypted; wrong passwords are counted and lock it for a while."""

    __tablename__ = "intakes"
    __table_args__ = (Index("ix_intakes_clinic_id_created_at", "clinic_id", "created_at"),)

    clinic_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clinics.id", ondelete="CASCADE"))
    client_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    practitioner_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("practitioners.id", ondelete="SET NULL"), index=True
    )
    form_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("form_templates.id", ondelete="SET NULL"))
    form_name: Mapped[str] = mapped_column(String(200))
    form_kind: Mapped[str] = mapped_column(String(20))
    form_revision: Mapped[int] = mapped_column(Integer)
    questions: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    consent_documents: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    answers: Mapped[dict[str, Any]] = mapped_column(JSON)
    consents: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20))
    password_encrypted: Mapped[str] = mapped_column(String(200))
    failed_password_attempts: Mapped[int] = mapped_column(Integer, default=0)
    password_locked_until: Mapped[datetime | None]
    appointment_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("appointments.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    submitted_at: Mapped[datetime | None]


class IntakeFile(UUIDPrimaryKey, Base):
    """A file a client gave for one question of an intake (an upload, or a signature drawn as a PNG); its
    bytes live in the file storage under ``storage_key``. ``content_type`` is sniffed from the bytes."""

    __tablename__ = "intake_files"

    intake_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("intakes.id", ondelete="CASCADE"), index=True)
    question_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    storage_key: Mapped[str] = mapped_column(String(300), unique=True)
    created_at: Mapped[datetime]


class IntakeToken(UUIDPrimaryKey, Base):
    """A sign-in token for the form page (``?auth=``): only its SHA-256 digest is kept."""

    __tablename__ = "intake_tokens"

    intake_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("intakes.id", ondelete="CASCADE"), index=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime]
    created_at: Mapped[datetime]
