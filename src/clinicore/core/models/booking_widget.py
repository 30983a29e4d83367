"""A clinic's client booking widget settings (one row per clinic, made with the defaults on first use)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer
from sqlalchemy.orm import Mapped, mapped_column

from clinicore.core.models.base import Base


class BookingWidgetSettings(Base):
    """How the public booking page books: ``requires_confirmation`` makes a client's booking a request the
    clinic confirms (``waiting_confirmation``), else it is ``confirmed`` at once; a client may cancel or
    reschedule through their link until ``client_change_notice_hours`` before the start."""

    __tablename__ = "booking_widget_settings"
    __table_args__ = (
        CheckConstraint("client_change_notice_hours BETWEEN 0 AND 720", name="client_change_notice_range"),
    )

    clinic_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("clinics.id", ondelete="CASCADE"), primary_key=True
    )
    requires_confirmation: Mapped[bool] = mapped_column(Boolean, default=False)
    client_change_notice_hours: Mapped[int] = mapped_column(Integer, default=24)
    updated_at: Mapped[datetime]
