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

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Integer, String, Text, UniqueConstraint
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
