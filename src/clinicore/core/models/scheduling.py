"""Practitioners, their hours and overrides, booking settings, busy blocks, the service catalog,
locations and appointments.

One appointment model serves every surface (QualifyBase, IntakeQ, console, booking widget).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, time
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    Time,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from clinicore.core.models.base import Base, UUIDPrimaryKey


class Practitioner(UUIDPrimaryKey, Base):
    """Clinic staff who can be booked (IntakeQ practitioners, QualifyBase assignees).

    ``name`` is the complete name; ``first_name``/``last_name`` are kept when they were given apart.
    ``role_name`` is one of the clinic's partner's staff roles (``staff_roles``) or ``Administrator``;
    ``is_main`` marks the clinic's main user, made with the clinic by its partner. A disabled
    practitioner is ``is_active`` false: never booked.
    """

    __tablename__ = "practitioners"
    __table_args__ = (UniqueConstraint("clinic_id", "external_id"),)

    clinic_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clinics.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    first_name: Mapped[str | None] = mapped_column(String(100))
    last_name: Mapped[str | None] = mapped_column(String(100))
    external_id: Mapped[str | None] = mapped_column(String(200))
    role_name: Mapped[str] = mapped_column(String(100), default="Administrator")
    is_main: Mapped[bool] = mapped_column(Boolean, default=False)
    email: Mapped[str | None] = mapped_column(String(320))
    time_zone: Mapped[str] = mapped_column(String(64))
    is_bookable: Mapped[bool] = mapped_column(Boolean, default=True)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    calendar_token_digest: Mapped[str | None] = mapped_column(String(64), unique=True)
    calendar_token_encrypted: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class BookingSettings(Base):
    """A clinic's booking rules: buffers, notice, horizon, default length (one row per clinic)."""

    __tablename__ = "booking_settings"

    clinic_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("clinics.id", ondelete="CASCADE"), primary_key=True
    )
    buffer_before_minutes: Mapped[int] = mapped_column(Integer, default=0)
    buffer_after_minutes: Mapped[int] = mapped_column(Integer, default=0)
    minimum_notice_minutes: Mapped[int] = mapped_column(Integer, default=60)
    horizon_days: Mapped[int] = mapped_column(Integer, default=60)
    default_length_minutes: Mapped[int] = mapped_column(Integer, default=30)
    slot_interval_minutes: Mapped[int | None] = mapped_column(Integer)
    # How long before an appointment its reminder goes (``core/scheduling/reminders.py``).
    reminder_lead_minutes: Mapped[int] = mapped_column(Integer, default=24 * 60)
    calendar_token_digest: Mapped[str | None] = mapped_column(String(64), unique=True)
    calendar_token_encrypted: Mapped[str | None] = mapped_column(String(500))
    updated_at: Mapped[datetime]


class WorkingHoursRule(UUIDPrimaryKey, Base):
    """A weekly range in the practitioner's local time; end <= start runs past midnight."""

    __tablename__ = "working_hours"
    __table_args__ = (CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday_range"),)

    clinic_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clinics.id", ondelete="CASCADE"))
    practitioner_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("practitioners.id", ondelete="CASCADE"), index=True
    )
    weekday: Mapped[int] = mapped_column(Integer)  # 0 = Monday
    start_time: Mapped[time] = mapped_column(Time)
    end_time: Mapped[time] = mapped_column(Time)


class DateOverride(UUIDPrimaryKey, Base):
    """Replaces a date's weekly ranges; a row without times closes the date."""

    __tablename__ = "date_overrides"

    clinic_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clinics.id", ondelete="CASCADE"))
    practitioner_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("practitioners.id", ondelete="CASCADE"), index=True
    )
    date: Mapped[date] = mapped_column(Date)
    start_time: Mapped[time | None] = mapped_column(Time)
    end_time: Mapped[time | None] = mapped_column(Time)


class BusyBlock(UUIDPrimaryKey, Base):
    """Time taken by an external calendar; without a practitioner it blocks the whole clinic."""

    __tablename__ = "busy_blocks"
    __table_args__ = (
        UniqueConstraint("clinic_id", "external_source", "external_id"),
        Index("ix_busy_blocks_clinic_id_starts_at", "clinic_id", "starts_at"),
    )

    clinic_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clinics.id", ondelete="CASCADE"))
    practitioner_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("practitioners.id", ondelete="CASCADE")
    )
    external_source: Mapped[str] = mapped_column(String(100))
    external_id: Mapped[str] = mapped_column(String(200))
    title: Mapped[str | None] = mapped_column(String(300))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Service(UUIDPrimaryKey, Base):
    """A bookable service of the clinic's catalog: its name, length and price.

    IntakeQ's ``ServiceId`` is ``str(id)``: IntakeQ's own service ids are GUIDs. Every practitioner offers
    every service (IntakeQ can limit a practitioner to some services; we do not, yet). A service is never
    deleted, only deactivated: its appointments keep naming it.
    """

    __tablename__ = "services"
    __table_args__ = (
        UniqueConstraint("clinic_id", "name"),
        CheckConstraint("duration_minutes BETWEEN 5 AND 1440", name="duration_range"),
        CheckConstraint("price >= 0", name="price_not_negative"),
    )

    clinic_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clinics.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    duration_minutes: Mapped[int] = mapped_column(Integer)
    price: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))  # None: no price shown
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Seen by video: each appointment of the service gets a video room (``AppointmentRoom``).
    telehealth: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Location(UUIDPrimaryKey, Base):
    """Where the clinic sees clients. ``number`` is the clinic's numeric location id (IntakeQ's
    ``LocationId``, a small integer per practice), handed out like client numbers; IntakeQ's one-line
    ``Address`` is the address fields joined. Never deleted, only deactivated."""

    __tablename__ = "locations"
    __table_args__ = (UniqueConstraint("clinic_id", "number"), UniqueConstraint("clinic_id", "name"))

    clinic_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clinics.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    address_line_1: Mapped[str | None] = mapped_column(String(200))
    address_line_2: Mapped[str | None] = mapped_column(String(200))
    city: Mapped[str | None] = mapped_column(String(100))
    state: Mapped[str | None] = mapped_column(String(100))  # a state, province or region as written
    zip_code: Mapped[str | None] = mapped_column(String(20))
    time_zone: Mapped[str | None] = mapped_column(String(64))  # None: the clinic's
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class AppointmentStatus(StrEnum):
    waiting_confirmation = "waiting_confirmation"
    confirmed = "confirmed"
    declined = "declined"
    cancelled = "cancelled"
    missed = "missed"
    completed = "completed"


# Statuses whose appointments no longer hold the practitioner's time.
RELEASED_STATUSES = (AppointmentStatus.cancelled, AppointmentStatus.declined)


class Appointment(UUIDPrimaryKey, Base):
    """One appointment model for every surface. Cancel is soft; deletion is soft too (``deleted_at``).

    PostgreSQL adds an exclusion constraint (migration 0003): no two active appointments of one
    practitioner overlap, whatever process inserts them.

    ``client_id`` is the client the appointment is for (a lead that books becomes or links to one);
    ``price`` is the service's price when it was booked, so that a later price change leaves it as sold.
    """

    __tablename__ = "appointments"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="positive_duration"),
        Index("ix_appointments_practitioner_id_starts_at", "practitioner_id", "starts_at"),
        Index("ix_appointments_clinic_id_starts_at", "clinic_id", "starts_at"),
        Index("ix_appointments_clinic_id_updated_at", "clinic_id", "updated_at"),
        Index("ix_appointments_clinic_id_client_id", "clinic_id", "client_id"),
    )

    clinic_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clinics.id", ondelete="CASCADE"))
    practitioner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("practitioners.id", ondelete="RESTRICT"))
    lead_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("leads.id", ondelete="SET NULL"), index=True)
    client_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("clients.id", ondelete="SET NULL"))
    service_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("services.id", ondelete="SET NULL"))
    location_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("locations.id", ondelete="SET NULL"))
    price: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    title: Mapped[str] = mapped_column(String(300))
    notes: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(32), default=AppointmentStatus.confirmed)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    source: Mapped[str] = mapped_column(String(32))  # qualifybase | intakeq | console | booking
    # Booked by the client (the booking widget) rather than by staff or an integration; who booked it.
    booked_by_client: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[str | None] = mapped_column(String(200))
    # How the client is reminded: a ReminderChannel; None: no reminder was asked for.
    reminder_channel: Mapped[str | None] = mapped_column(String(16))
    version: Mapped[int] = mapped_column(Integer, default=1)
    cancelled_at: Mapped[datetime | None]
    cancellation_reason: Mapped[str | None] = mapped_column(String(500))
    deleted_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class ReminderChannel(StrEnum):
    email = "email"
    sms = "sms"
    voice = "voice"
    none = "none"  # the client opted out


class ReminderStatus(StrEnum):
    pending = "pending"  # waits for its time
    sent = "sent"  # handed to the email or SMS outbox (which retries on its own)
    not_sent = "not_sent"  # could not go (no voice provider, no email or phone): ``detail`` says why
    dropped = "dropped"  # the appointment was cancelled, declined, deleted or moved


class AppointmentReminder(UUIDPrimaryKey, Base):
    """A reminder of an appointment due at ``due_at``, sent by the worker (``worker/reminders.py``)."""

    __tablename__ = "appointment_reminders"
    __table_args__ = (Index("ix_appointment_reminders_status_due_at", "status", "due_at"),)

    clinic_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clinics.id", ondelete="CASCADE"))
    appointment_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("appointments.id", ondelete="CASCADE"), index=True
    )
    channel: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default=ReminderStatus.pending)
    due_at: Mapped[datetime]
    detail: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime]
    done_at: Mapped[datetime | None]


class AppointmentRoom(UUIDPrimaryKey, Base):
    """The video room of an appointment of a telehealth service (``core/scheduling/video_rooms.py``):
    its ``id`` is in the practitioner's and the client's signed links. One per appointment."""

    __tablename__ = "appointment_rooms"

    clinic_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clinics.id", ondelete="CASCADE"))
    appointment_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("appointments.id", ondelete="CASCADE"), unique=True
    )
    created_at: Mapped[datetime]
