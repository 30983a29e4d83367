"""Qualiphy's pharmacy endpoints, exactly: request bodies as integrators send them and the bare JSON
arrays the endpoints answer (no ``http_code`` wrapper), with the pure mapping from core results.

Field names follow what real clients read (recorded in docs/compat/qualiphy.md): a
treatment package carries ``order_set_id`` with the legacy ``exam_pos_id`` beside it, ``pharmacy_id``,
``pharmacy_name`` and its price as ``qualiphy_total_price`` (a string such as ``"50.99"``); a retail
pharmacy carries the ``ncpdpid`` and ``pharmacy_*`` fields that ``exam_invite`` takes back with
``custom_pharmacy: 1``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator

from clinicore.core.models import OrderSetItem, RetailPharmacy
from clinicore.core.pharmacy import schemas
from clinicore.surfaces.qualiphy.parsing import Body, IntList, Text

# Qualiphy: a missing exam_ids is answered with this JavaScript error text, as the doc says.
MISSING_EXAM_IDS = "Cannot convert undefined or null to object"


def _digits_as_text(width: int) -> Any:
    """A code sent as a number (10001) or a string ("10001"); a number gets back its leading zeros."""

    def convert(value: Any) -> Any:
        if isinstance(value, bool):
            raise ValueError("must be a string")
        if isinstance(value, int):
            return str(value).zfill(width)
        return value

    return BeforeValidator(convert)


ZipCode = Annotated[Text, _digits_as_text(5)]
Ncpdpid = Annotated[Text, _digits_as_text(7)]


# --- requests -------------------------------------------------------------------------------------


class PartnerPharmacyListRequest(Body):
    exam_ids: IntList | None = None
    patient_state: Text = None


class TreatmentPackagesRequest(Body):
    pharmacy_ids: IntList | None = None  # plural only: a singular ``pharmacy_id`` gives []
    exam_ids: IntList | None = None
    patient_state: Text = None


class CustomPharmacySearchRequest(Body):
    search: Text = None
    zip_code: ZipCode = None
    ncpdpid: Ncpdpid = None


# --- responses ------------------------------------------------------------------------------------


class PartnerPharmacy(BaseModel):
    pharmacy_id: int
    pharmacy_name: str
    ncpdpid: str | None
    pharmacy_address_line_1: str | None
    pharmacy_city: str | None
    pharmacy_state: str | None
    pharmacy_zip_code: str | None
    pharmacy_phone: str | None
    exam_ids: list[int]  # which of the exams asked about this pharmacy fulfils


class DrugItem(BaseModel):
    drug_name: str
    strength: str | None
    form: str | None
    ndc: str | None
    quantity: str | None
    quantity_units: str | None
    refills: int
    days_supply: int | None
    directions: str | None
    schedule_code: str | None


class TreatmentPackage(BaseModel):
    order_set_id: int
    exam_pos_id: int  # legacy number older integrations send instead of order_set_id
    title: str
    pharmacy_id: int
    pharmacy_name: str
    exam_id: int
    qualiphy_total_price: str | None  # "50.99", as real clients read it
    price: str | None  # the same value under a plain name
    items: list[DrugItem]


class RetailPharmacyFound(BaseModel):
    ncpdpid: str | None
    npi: str | None
    pharmacy_name: str
    pharmacy_address_line_1: str | None
    pharmacy_address_line_2: str | None
    pharmacy_city: str | None
    pharmacy_state: str | None
    pharmacy_zip_code: str | None
    pharmacy_phone: str | None
    pharmacy_type: str | None


# --- mapping --------------------------------------------------------------------------------------


def price_text(price: Decimal | None) -> str | None:
    return None if price is None else f"{price:.2f}"


def partner_pharmacy(match: schemas.PartnerPharmacyMatch) -> PartnerPharmacy:
    pharmacy = match.pharmacy
    return PartnerPharmacy(
        pharmacy_id=pharmacy.id,
        pharmacy_name=pharmacy.name,
        ncpdpid=pharmacy.ncpdpid,
        pharmacy_address_line_1=pharmacy.address_line_1,
        pharmacy_city=pharmacy.city,
        pharmacy_state=pharmacy.state,
        pharmacy_zip_code=pharmacy.zip_code,
        pharmacy_phone=pharmacy.phone,
        exam_ids=list(match.exam_ids),
    )


def drug_item(item: OrderSetItem) -> DrugItem:
    return DrugItem(
        drug_name=item.drug_name,
        strength=item.strength,
        form=item.form,
        ndc=item.ndc,
        quantity=item.quantity,
        quantity_units=item.quantity_units,
        refills=item.refills,
        days_supply=item.days_supply,
        directions=item.directions,
        schedule_code=item.schedule_code,
    )


def treatment_package(package: schemas.TreatmentPackage) -> TreatmentPackage:
    order_set = package.order_set
    price = price_text(order_set.price)
    return TreatmentPackage(
        order_set_id=order_set.id,
        exam_pos_id=order_set.exam_pos_id,
        title=order_set.title,
        pharmacy_id=package.pharmacy.id,
        pharmacy_name=package.pharmacy.name,
        exam_id=order_set.exam_id,
        qualiphy_total_price=price,
        price=price,
        items=[drug_item(item) for item in package.items],
    )


def retail_pharmacy(pharmacy: RetailPharmacy) -> RetailPharmacyFound:
    return RetailPharmacyFound(
        ncpdpid=pharmacy.ncpdpid,
        npi=pharmacy.npi,
        pharmacy_name=pharmacy.name,
        pharmacy_address_line_1=pharmacy.address_line_1,
        pharmacy_address_line_2=pharmacy.address_line_2,
        pharmacy_city=pharmacy.city,
        pharmacy_state=pharmacy.state,
        pharmacy_zip_code=pharmacy.zip_code,
        pharmacy_phone=pharmacy.phone,
        pharmacy_type=pharmacy.pharmacy_type,
    )
