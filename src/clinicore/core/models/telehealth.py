"""Telehealth: each clinic's exam catalog with its screening questions, the network's providers and
their licences, meetings (one per invite) and patient exams (one per exam of an invite) with their
answers, attachments, prescriptions and shipments.

Numeric ids that a vendor client sees (``exam_id``, ``patient_exam_id``, question and response ids)
are integer identity keys; SQLite's AUTOINCREMENT keeps them from ever being reused.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Identity,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from clinicore.core.models.base import Base, UUIDPrimaryKey
from clinicore.core.models.pharmacy import DrugFields


class RxType(StrEnum):
    gfe = "gfe"  # Qualiphy rx_type 1
    rx = "rx"  # Qualiphy rx_type 2 (urgent care included: told apart by title only)


class QuestionType(StrEnum):
    single = "single"  # one option
    multiple = "multiple"  # any number of options
    text = "text"  # free text, no options


class Exam(Base):
    """One treatment of a clinic's catalog. ``id`` is Qualiphy's ``exam_id``."""

    __tablename__ = "exams"
    __table_args__ = (Index("ix_exams_clinic_id_title", "clinic_id", "title"), {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(Integer, Identity(start=1001), primary_key=True)
    clinic_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clinics.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(300))
    rx_type: Mapped[str] = mapped_column(String(8))
    price: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    attachments_required: Mapped[bool] = mapped_column(Boolean, default=False)
    # Named documents the patient uploads besides the standard ID ("Lab", "Picture of hair loss area").
    attachments: Mapped[list[str]] = mapped_column(JSON, default=list)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class ExamQuestion(Base):
    """A screening question; ``no`` is its number within the exam (1, 2, ...)."""

    __tablename__ = "exam_questions"
    __table_args__ = (UniqueConstraint("exam_id", "no"), {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(Integer, Identity(start=20001), primary_key=True)
    exam_id: Mapped[int] = mapped_column(ForeignKey("exams.id", ondelete="CASCADE"))
    no: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    type: Mapped[str] = mapped_column(String(16))
    is_required: Mapped[bool] = mapped_column(Boolean, default=True)


class ExamQuestionResponse(Base):
    """An answer option of a single- or multi-select question (``exam_question_response_id``)."""

    __tablename__ = "exam_question_responses"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(Integer, Identity(start=50001), primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("exam_questions.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(String(500))
    has_free_text: Mapped[bool] = mapped_column(Boolean, default=False)  # "Other: ____"


class Provider(UUIDPrimaryKey, Base):
    """A licensed clinician of the network (not of one clinic). Test providers serve test mode only."""

    __tablename__ = "providers"

    name: Mapped[str] = mapped_column(String(200))
    credentials: Mapped[str | None] = mapped_column(String(50))  # MD, NP, PA-C
    email: Mapped[str | None] = mapped_column(String(320), unique=True)
    npi: Mapped[str | None] = mapped_column(String(10))
    password_hash: Mapped[str | None] = mapped_column(String(200))  # provider desk sign-in
    is_test: Mapped[bool] = mapped_column(Boolean, default=False)
    # A medical director decides the exams other providers defer to them, from their own queue.
    is_medical_director: Mapped[bool] = mapped_column(Boolean, default=False)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]


class ProviderLicense(Base):
    """A state a provider may practise in; an expired licence counts as none."""

    __tablename__ = "provider_licenses"
    __table_args__ = (Index("ix_provider_licenses_state", "state"),)

    provider_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("providers.id", ondelete="CASCADE"), primary_key=True
    )
    state: Mapped[str] = mapped_column(String(2), primary_key=True)
    license_number: Mapped[str | None] = mapped_column(String(50))
    expires_on: Mapped[date | None] = mapped_column(Date)


class TestOutcome(StrEnum):
    """What a test provider does, read from the test patient's name."""

    approve = "approve"
    reject = "reject"
    na = "na"
    rx_approve = "rx_approve"
    rx_reject = "rx_reject"


class Meeting(UUIDPrimaryKey, Base):
    """One invite: the patient's visit, holding every exam of the invite and how to route and report it.

    ``id`` is the ``meeting_uuid``. The routing columns apply to the meeting's Rx exam (one at most).
    """

    __tablename__ = "meetings"
    __table_args__ = (Index("ix_meetings_clinic_id_created_at", "clinic_id", "created_at"),)

    clinic_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clinics.id", ondelete="CASCADE"))
    client_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clients.id", ondelete="RESTRICT"), index=True)
    # The patient as this invite named them. The client is the clinic's record of the person and may
    # gain details later; the exam's webhooks and PDF show these, whatever a later invite says.
    patient_first_name: Mapped[str] = mapped_column(String(100))
    patient_last_name: Mapped[str] = mapped_column(String(100))
    patient_email: Mapped[str] = mapped_column(String(320))
    patient_phone: Mapped[str] = mapped_column(String(32))
    patient_date_of_birth: Mapped[date | None] = mapped_column(Date)
    tele_state: Mapped[str] = mapped_column(String(2))
    is_test: Mapped[bool] = mapped_column(Boolean, default=False)
    test_outcome: Mapped[str | None] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(32))  # qualiphy | console | ...
    webhook_url: Mapped[str | None] = mapped_column(String(2000))
    webhook_endpoint_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("webhook_endpoints.id", ondelete="SET NULL")
    )
    # Echoed back unchanged: a JSON string stays a string, an object an object (``null``: not sent).
    additional_data: Mapped[Any] = mapped_column(JSON(none_as_null=True), nullable=True)
    redirect_approve: Mapped[str | None] = mapped_column(String(2000))
    redirect_reject: Mapped[str | None] = mapped_column(String(2000))
    redirect_na: Mapped[str | None] = mapped_column(String(2000))
    redirect_missed: Mapped[str | None] = mapped_column(String(2000))
    shipping_address_line_1: Mapped[str | None] = mapped_column(String(200))
    shipping_address_line_2: Mapped[str | None] = mapped_column(String(200))
    shipping_city: Mapped[str | None] = mapped_column(String(100))
    shipping_state: Mapped[str | None] = mapped_column(String(2))
    shipping_zip_code: Mapped[str | None] = mapped_column(String(10))
    # Pharmacy routing of the meeting's Rx exam (core/telehealth/routing.py); all null for a GFE-only
    # meeting. A surface decodes its vendor's codes into these words.
    pharmacy_routing: Mapped[str | None] = mapped_column(String(16))  # PharmacyKind: partner | retail
    pharmacy_id: Mapped[int | None] = mapped_column(ForeignKey("partner_pharmacies.id", ondelete="SET NULL"))
    order_set_id: Mapped[int | None] = mapped_column(ForeignKey("order_sets.id", ondelete="SET NULL"))
    provider_chooses: Mapped[str | None] = mapped_column(String(32))  # ProviderChoice, null: not stated
    # The retail pharmacy the invite names.
    ncpdpid: Mapped[str | None] = mapped_column(String(7))
    pharmacy_name: Mapped[str | None] = mapped_column(String(200))
    pharmacy_address_line_1: Mapped[str | None] = mapped_column(String(200))
    pharmacy_address_line_2: Mapped[str | None] = mapped_column(String(200))
    pharmacy_city: Mapped[str | None] = mapped_column(String(100))
    pharmacy_state: Mapped[str | None] = mapped_column(String(2))
    pharmacy_zip_code: Mapped[str | None] = mapped_column(String(10))
    pharmacy_phone: Mapped[str | None] = mapped_column(String(32))
    pharmacy_type: Mapped[str | None] = mapped_column(String(50))
    patient_chooses_pharmacy: Mapped[bool | None] = mapped_column(Boolean)
    skip_pharmacy_confirmation: Mapped[bool] = mapped_column(Boolean, default=False)
    pharmacy_bills: Mapped[str | None] = mapped_column(String(16))  # PharmacyBills: clinic | patient
    # Undocumented by the vendors: integrators send a number or the clinic's name, kept as text.
    clinic_billing_reference: Mapped[str | None] = mapped_column(String(200))
    delivery_method: Mapped[str | None] = mapped_column(String(16))  # DeliveryMethod: pickup | ship
    consented_at: Mapped[datetime | None]  # the patient accepted the telehealth consent on the meeting page
    invites_sent: Mapped[int] = mapped_column(Integer, default=0)
    last_invited_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class PatientExamStatus(StrEnum):
    pending = "pending"
    in_questionnaire = "in_questionnaire"
    waiting_for_provider = "waiting_for_provider"
    in_consultation = "in_consultation"
    completed = "completed"  # decided: see ``outcome``
    prescribed = "prescribed"
    confirmed_by_pharmacy = "confirmed_by_pharmacy"
    shipped = "shipped"
    cancelled = "cancelled"


class ExamOutcome(StrEnum):
    """Qualiphy's ``exam_status`` words, exactly."""

    approved = "Approved"
    rejected = "Rejected"
    deferred = "Deferred to Medical Director"
    na = "NA"
    missed = "Missed"


class PatientExam(Base):
    """One exam of one meeting. ``id`` is Qualiphy's ``patient_exam_id``.

    ``next_action_at`` is the exam's one timer: when a waiting live exam becomes Missed, or when a
    test provider takes its next step. The worker claims exams whose timer is due.
    """

    __tablename__ = "patient_exams"
    __table_args__ = (
        Index("ix_patient_exams_meeting_id", "meeting_id"),
        Index("ix_patient_exams_next_action_at", "next_action_at"),
        Index("ix_patient_exams_status_tele_state", "status", "tele_state"),
        Index("ix_patient_exams_clinic_id_created_at", "clinic_id", "created_at"),
        # Whether a client has exams (an invite of a known client asks): without it, a scan of every exam.
        Index("ix_patient_exams_client_id", "client_id"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, Identity(start=100001), primary_key=True)
    clinic_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clinics.id", ondelete="CASCADE"))
    meeting_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"))
    exam_id: Mapped[int] = mapped_column(ForeignKey("exams.id", ondelete="RESTRICT"))
    client_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clients.id", ondelete="RESTRICT"))
    tele_state: Mapped[str] = mapped_column(String(2))  # copied from the meeting for the providers' queue
    is_test: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(32), default=PatientExamStatus.pending)
    outcome: Mapped[str | None] = mapped_column(String(40))
    reason: Mapped[str | None] = mapped_column(Text)
    provider_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("providers.id", ondelete="RESTRICT"))
    version: Mapped[int] = mapped_column(Integer, default=1)
    next_action_at: Mapped[datetime | None]
    questionnaire_completed_at: Mapped[datetime | None]
    waiting_since: Mapped[datetime | None]
    consultation_started_at: Mapped[datetime | None]
    decided_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class ExamStatusChange(Base):
    """One status move of a patient exam and who made it: the exam's timeline. Written by every move
    (core/telehealth/transitions.py ``move``) and at creation (``from_status`` empty); never updated.

    ``actor_type``: patient | provider | pharmacy_user | api_key | user (console) | timer | system;
    ``actor_id`` the account, key or client id when there is one."""

    __tablename__ = "exam_status_changes"
    __table_args__ = (
        Index("ix_exam_status_changes_patient_exam_id_id", "patient_exam_id", "id"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, Identity(), primary_key=True)
    clinic_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clinics.id", ondelete="CASCADE"))
    patient_exam_id: Mapped[int] = mapped_column(ForeignKey("patient_exams.id", ondelete="CASCADE"))
    from_status: Mapped[str | None] = mapped_column(String(32))
    to_status: Mapped[str] = mapped_column(String(32))
    outcome: Mapped[str | None] = mapped_column(String(40))
    actor_type: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[str | None] = mapped_column(String(64))
    occurred_at: Mapped[datetime]


class ExamAnswer(UUIDPrimaryKey, Base):
    """An answer to one question; a multi-select question has one row per selected option."""

    __tablename__ = "exam_answers"
    __table_args__ = (Index("ix_exam_answers_patient_exam_id_question_id", "patient_exam_id", "question_id"),)

    patient_exam_id: Mapped[int] = mapped_column(ForeignKey("patient_exams.id", ondelete="CASCADE"))
    question_id: Mapped[int] = mapped_column(ForeignKey("exam_questions.id", ondelete="CASCADE"))
    response_id: Mapped[int | None] = mapped_column(
        ForeignKey("exam_question_responses.id", ondelete="CASCADE")
    )
    answer: Mapped[str] = mapped_column(Text)  # the option's text, or the free-text answer
    answer_text: Mapped[str | None] = mapped_column(Text)  # the free-text box of an option
    source: Mapped[str] = mapped_column(String(16))  # api | patient
    created_at: Mapped[datetime]


class ExamAttachment(UUIDPrimaryKey, Base):
    """A document attached to a patient exam: the ID, or one of the exam's named attachments."""

    __tablename__ = "exam_attachments"

    clinic_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clinics.id", ondelete="CASCADE"))
    patient_exam_id: Mapped[int] = mapped_column(
        ForeignKey("patient_exams.id", ondelete="CASCADE"), index=True
    )
    label: Mapped[str] = mapped_column(String(200))  # "ID", "Lab", ...
    file_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("stored_files.id", ondelete="RESTRICT"))
    created_at: Mapped[datetime]


class PrescriptionStatus(StrEnum):
    written = "written"
    confirmed = "confirmed"  # by the pharmacy: Qualiphy event 2
    shipped = "shipped"  # Qualiphy event 3
    cancelled = "cancelled"


class Prescription(UUIDPrimaryKey, Base):
    """The treatment order of an approved Rx exam, with the pharmacy it was routed to.

    Either a partner pharmacy (with the order set prescribed) or a retail one (its details copied).
    """

    __tablename__ = "prescriptions"
    __table_args__ = (Index("ix_prescriptions_pharmacy_id_status", "pharmacy_id", "status"),)

    clinic_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clinics.id", ondelete="CASCADE"), index=True)
    patient_exam_id: Mapped[int] = mapped_column(
        ForeignKey("patient_exams.id", ondelete="CASCADE"), unique=True
    )
    provider_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("providers.id", ondelete="RESTRICT"))
    status: Mapped[str] = mapped_column(String(16), default=PrescriptionStatus.written)
    pharmacy_id: Mapped[int | None] = mapped_column(ForeignKey("partner_pharmacies.id", ondelete="RESTRICT"))
    order_set_id: Mapped[int | None] = mapped_column(ForeignKey("order_sets.id", ondelete="SET NULL"))
    pharmacy_name: Mapped[str] = mapped_column(String(200))
    pharmacy_ncpdpid: Mapped[str | None] = mapped_column(String(7))
    pharmacy_address: Mapped[str | None] = mapped_column(String(500))
    pharmacy_phone: Mapped[str | None] = mapped_column(String(32))
    written_at: Mapped[datetime]
    confirmed_at: Mapped[datetime | None]
    shipped_at: Mapped[datetime | None]


class PrescriptionItem(UUIDPrimaryKey, DrugFields, Base):
    __tablename__ = "prescription_items"

    prescription_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("prescriptions.id", ondelete="CASCADE"), index=True
    )


class Shipment(UUIDPrimaryKey, Base):
    """A tracked parcel of a prescription."""

    __tablename__ = "shipments"

    prescription_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("prescriptions.id", ondelete="CASCADE"), index=True
    )
    tracking_number: Mapped[str] = mapped_column(String(100))
    delivery_service: Mapped[str] = mapped_column(String(100))  # "UPS Ground", "USPS Priority Mail"
    carrier: Mapped[str] = mapped_column(String(50))  # UPS, USPS, FedEx, DHL
    shipped_at: Mapped[datetime]
