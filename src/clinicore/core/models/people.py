"""A clinic's clients (its patients), found or created by a Qualiphy invite, an IntakeQ form or a booking."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from clinicore.core.models.base import Base, UUIDPrimaryKey


class Client(UUIDPrimaryKey, Base):
    """One person per clinic. ``number`` is the clinic's numeric client id (IntakeQ ``ClientId``)."""

    __tablename__ = "clients"
    __table_args__ = (
        UniqueConstraint("clinic_id", "number"),
        Index("ix_clients_clinic_id_email", "clinic_id", "email"),
        Index("ix_clients_clinic_id_phone", "clinic_id", "phone"),
    )

    clinic_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clinics.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    # The practitioner who owns the client (IntakeQ's client ownership); None: the clinic's.
    practitioner_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("practitioners.id", ondelete="SET NULL"), index=True
    )
    external_client_id: Mapped[str | None] = mapped_column(String(200))
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(320))  # normalised (lower-case domain)
    phone: Mapped[str | None] = mapped_column(String(32))  # E.164
    date_of_birth: Mapped[date | None] = mapped_column(Date)
    gender: Mapped[int | None] = mapped_column(Integer)  # 1 male, 2 female, 3 prefer not to say
    dmv_license_number: Mapped[str | None] = mapped_column(String(64))
    address_line_1: Mapped[str | None] = mapped_column(String(200))
    address_line_2: Mapped[str | None] = mapped_column(String(200))
    city: Mapped[str | None] = mapped_column(String(100))
    state: Mapped[str | None] = mapped_column(String(2))
    zip_code: Mapped[str | None] = mapped_column(String(10))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class ClientTag(UUIDPrimaryKey, Base):
    """A label a clinic puts on a client (IntakeQ's client tags). ``tag_key`` is the tag in lower case:
    one client holds a tag once, whatever its case."""

    __tablename__ = "client_tags"
    __table_args__ = (
        UniqueConstraint("client_id", "tag_key"),
        Index("ix_client_tags_clinic_id_tag_key", "clinic_id", "tag_key"),
    )

    clinic_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clinics.id", ondelete="CASCADE"))
    client_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    tag: Mapped[str] = mapped_column(String(50))
    tag_key: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]


class ClientField(UUIDPrimaryKey, Base):
    """A custom field a clinic defines for its clients' profiles; ``key`` is its id on the wire."""

    __tablename__ = "client_fields"
    __table_args__ = (UniqueConstraint("clinic_id", "key"),)

    clinic_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clinics.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(40))
    label: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]


class ClientFieldValue(UUIDPrimaryKey, Base):
    """One client's value of one of the clinic's custom fields."""

    __tablename__ = "client_field_values"
    __table_args__ = (UniqueConstraint("client_id", "field_id"),)

    clinic_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clinics.id", ondelete="CASCADE"))
    client_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    field_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("client_fields.id", ondelete="CASCADE"), index=True
    )
    value: Mapped[str] = mapped_column(String(1000))
    updated_at: Mapped[datetime]


class Counter(Base):
    """Numbers handed out in order (a clinic's client numbers): ``UPDATE … RETURNING`` on one row."""

    __tablename__ = "counters"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[int] = mapped_column(Integer)
