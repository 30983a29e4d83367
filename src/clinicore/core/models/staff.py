"""Staff roles (a partner's master roles, by name) and assistants (clinic staff who are not booked).

``Administrator`` is no row: it always exists and may do everything (core/tenancy/roles.py).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from clinicore.core.models.base import Base, UUIDPrimaryKey


class StaffRole(UUIDPrimaryKey, Base):
    """One of a partner's master roles: a name and what its holders may do."""

    __tablename__ = "staff_roles"
    __table_args__ = (UniqueConstraint("partner_id", "name"),)

    partner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    may_send_forms: Mapped[bool] = mapped_column(Boolean, default=False)
    may_open_forms: Mapped[bool] = mapped_column(Boolean, default=False)
    may_edit_templates: Mapped[bool] = mapped_column(Boolean, default=False)
    may_change_settings: Mapped[bool] = mapped_column(Boolean, default=False)
    may_book: Mapped[bool] = mapped_column(Boolean, default=False)
    may_see_reports: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Assistant(UUIDPrimaryKey, Base):
    """Clinic staff who act for practitioners; ``assistant_practitioners`` limits which (none: all)."""

    __tablename__ = "assistants"
    __table_args__ = (UniqueConstraint("clinic_id", "external_id"),)

    clinic_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clinics.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320))
    role_name: Mapped[str] = mapped_column(String(100))
    external_id: Mapped[str | None] = mapped_column(String(200))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class AssistantPractitioner(Base):
    """A practitioner an assistant may act for."""

    __tablename__ = "assistant_practitioners"

    assistant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("assistants.id", ondelete="CASCADE"), primary_key=True
    )
    practitioner_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("practitioners.id", ondelete="CASCADE"), primary_key=True, index=True
    )
