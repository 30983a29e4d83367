"""Pharmacy commands and results, independent of any wire format."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from clinicore.core.models import OrderSet, OrderSetItem, PartnerPharmacy
from clinicore.core.models.pharmacy import DrugFields

DRUG_COLUMNS = (
    "drug_name",
    "strength",
    "form",
    "ndc",
    "quantity",
    "quantity_units",
    "refills",
    "days_supply",
    "directions",
    "schedule_code",
)


@dataclass(frozen=True, slots=True)
class DrugItem:
    """One drug: of an order set, or written on a prescription (both tables share ``DrugFields``)."""

    drug_name: str
    strength: str | None = None
    form: str | None = None
    ndc: str | None = None
    quantity: str | None = None
    quantity_units: str | None = None
    refills: int = 0
    days_supply: int | None = None
    directions: str | None = None
    schedule_code: str | None = None

    @classmethod
    def of(cls, row: DrugFields) -> DrugItem:
        return cls(**{name: getattr(row, name) for name in DRUG_COLUMNS})

    def columns(self) -> dict[str, Any]:
        """The values of a ``DrugFields`` row."""
        values = {name: getattr(self, name) for name in DRUG_COLUMNS}
        values["drug_name"] = self.drug_name.strip()
        return values


@dataclass(frozen=True, slots=True)
class PartnerPharmacyMatch:
    """A partner pharmacy that serves some of the exams asked about (``exam_ids``, in id order)."""

    pharmacy: PartnerPharmacy
    exam_ids: Sequence[int]


@dataclass(frozen=True, slots=True)
class TreatmentPackage:
    order_set: OrderSet
    pharmacy: PartnerPharmacy
    items: Sequence[OrderSetItem] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class RetailPharmacyRecord:
    """One retail directory entry as read from an import file, already normalised.

    At least one of ``ncpdpid`` and ``npi`` is set: it is the key a re-import updates by.
    """

    name: str
    ncpdpid: str | None = None
    npi: str | None = None
    address_line_1: str | None = None
    address_line_2: str | None = None
    city: str | None = None
    state: str | None = None
    zip_code: str | None = None
    phone: str | None = None
    fax: str | None = None
    pharmacy_type: str | None = None
    taxonomy_code: str | None = None
    is_active: bool = True
