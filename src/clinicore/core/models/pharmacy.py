"""Pharmacies: the partner (compounding) network with its states, exams and order sets, and the
retail directory that ``custom_pharmacy_search`` searches."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Boolean, ForeignKey, Identity, Index, Integer, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from clinicore.core.models.base import Base, UUIDPrimaryKey


class DrugFields:
    """One treatment item: an order set's drug, or a prescription's."""

    position: Mapped[int] = mapped_column(Integer, default=0)
    drug_name: Mapped[str] = mapped_column(String(200))
    strength: Mapped[str | None] = mapped_column(String(100))
    form: Mapped[str | None] = mapped_column(String(100))  # injection, tablet, cream...
    ndc: Mapped[str | None] = mapped_column(String(20))
    quantity: Mapped[str | None] = mapped_column(String(32))  # "2.5", "30": a decimal kept as written
    quantity_units: Mapped[str | None] = mapped_column(String(32))  # mL, tablets...
    refills: Mapped[int] = mapped_column(Integer, default=0)
    days_supply: Mapped[int | None] = mapped_column(Integer)
    directions: Mapped[str | None] = mapped_column(Text)
    schedule_code: Mapped[str | None] = mapped_column(String(8))  # DEA schedule (CII..CV) when controlled


class PartnerPharmacy(Base):
    """A pharmacy of the partner network. ``id`` is Qualiphy's numeric ``pharmacy_id``."""

    __tablename__ = "partner_pharmacies"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(Integer, Identity(start=101), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(32))
    ncpdpid: Mapped[str | None] = mapped_column(String(7))
    address_line_1: Mapped[str | None] = mapped_column(String(200))
    city: Mapped[str | None] = mapped_column(String(100))
    state: Mapped[str | None] = mapped_column(String(2))
    zip_code: Mapped[str | None] = mapped_column(String(10))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]


class PharmacyUser(UUIDPrimaryKey, Base):
    """A person of one partner pharmacy who signs in to the pharmacy desk (argon2id password)."""

    __tablename__ = "pharmacy_users"

    pharmacy_id: Mapped[int] = mapped_column(
        ForeignKey("partner_pharmacies.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str] = mapped_column(String(320), unique=True)  # lower-case
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(200))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]


class PartnerPharmacyState(Base):
    """A state a partner pharmacy ships to."""

    __tablename__ = "partner_pharmacy_states"

    pharmacy_id: Mapped[int] = mapped_column(
        ForeignKey("partner_pharmacies.id", ondelete="CASCADE"), primary_key=True
    )
    state: Mapped[str] = mapped_column(String(2), primary_key=True)


class PartnerPharmacyExam(Base):
    """A clinic's Rx exam that a partner pharmacy fulfils."""

    __tablename__ = "partner_pharmacy_exams"
    __table_args__ = (Index("ix_partner_pharmacy_exams_exam_id", "exam_id"),)

    pharmacy_id: Mapped[int] = mapped_column(
        ForeignKey("partner_pharmacies.id", ondelete="CASCADE"), primary_key=True
    )
    exam_id: Mapped[int] = mapped_column(ForeignKey("exams.id", ondelete="CASCADE"), primary_key=True)
    clinic_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clinics.id", ondelete="CASCADE"), index=True)


class OrderSet(Base):
    """A treatment package (drugs + dosage + price) of one partner pharmacy for one exam.

    ``id`` is ``order_set_id``; ``exam_pos_id`` is the legacy number older integrations still send.
    """

    __tablename__ = "order_sets"
    __table_args__ = (
        Index("ix_order_sets_exam_id_pharmacy_id", "exam_id", "pharmacy_id"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, Identity(start=5001), primary_key=True)
    exam_pos_id: Mapped[int] = mapped_column(Integer, unique=True)
    clinic_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clinics.id", ondelete="CASCADE"), index=True)
    exam_id: Mapped[int] = mapped_column(ForeignKey("exams.id", ondelete="CASCADE"))
    pharmacy_id: Mapped[int] = mapped_column(ForeignKey("partner_pharmacies.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(300))
    price: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]


class OrderSetItem(UUIDPrimaryKey, DrugFields, Base):
    __tablename__ = "order_set_items"

    order_set_id: Mapped[int] = mapped_column(ForeignKey("order_sets.id", ondelete="CASCADE"), index=True)


class RetailPharmacy(UUIDPrimaryKey, Base):
    """A pharmacy of the retail directory, loaded by ``clinicore import-pharmacies`` (CSV or NPPES)."""

    __tablename__ = "retail_pharmacies"
    __table_args__ = (
        Index("ix_retail_pharmacies_zip_code", "zip_code"),
        Index("ix_retail_pharmacies_name_key", "name_key"),
    )

    ncpdpid: Mapped[str | None] = mapped_column(String(7), unique=True)
    npi: Mapped[str | None] = mapped_column(String(10), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    name_key: Mapped[str] = mapped_column(String(200))  # lower-case, for search
    address_line_1: Mapped[str | None] = mapped_column(String(200))
    address_line_2: Mapped[str | None] = mapped_column(String(200))
    city: Mapped[str | None] = mapped_column(String(100))
    state: Mapped[str | None] = mapped_column(String(2))
    zip_code: Mapped[str | None] = mapped_column(String(10))  # five digits
    phone: Mapped[str | None] = mapped_column(String(32))
    fax: Mapped[str | None] = mapped_column(String(32))
    pharmacy_type: Mapped[str | None] = mapped_column(String(50))  # retail, compounding, mail order, ...
    taxonomy_code: Mapped[str | None] = mapped_column(String(10))
    source: Mapped[str] = mapped_column(String(16))  # csv | nppes | demo
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime]
