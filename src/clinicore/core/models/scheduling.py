"""Practitioners, their hours and overrides, booking settings, busy blocks and appointments.

One appointment model serves every surface (QualifyBase, IntakeQ, console, booking widget).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, time
from enum import StrEnum

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Time,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from clinicore.core.models.base import Base, UUIDPrimaryKey


class Practitioner(UUIDPrimaryKey, Base):
    """Clinic staff who can be booked (IntakeQ practitioners, QualifyBase assignees)."""

    __tablename__ = "practitioners"

    clinic_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clinics.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
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
    """

    __tablename__ = "appointments"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="positive_duration"),
        Index("ix_appointments_practitioner_id_starts_at", "practitioner_id", "starts_at"),
        Index("ix_appointments_clinic_id_starts_at", "clinic_id", "starts_at"),
        Index("ix_appointments_clinic_id_updated_at", "clinic_id", "updated_at"),
    )

    clinic_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clinics.id", ondelete="CASCADE"))
    practitioner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("practitioners.id", ondelete="RESTRICT"))
    lead_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("leads.id", ondelete="SET NULL"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    notes: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(32), default=AppointmentStatus.confirmed)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    source: Mapped[str] = mapped_column(String(32))  # qualifybase | intakeq | console | booking
    version: Mapped[int] = mapped_column(Integer, default=1)
    cancelled_at: Mapped[datetime | None]
    cancellation_reason: Mapped[str | None] = mapped_column(String(500))
    deleted_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
