"""Where the prescription of an invite's Rx exam goes: a partner (compounding) pharmacy of the network,
with the order set named by the invite or chosen by the provider, or a retail pharmacy named by the
invite or chosen by the patient at the meeting.

Commands are typed and speak our words (a surface decodes its vendor's codes into them). The rules:

- A GFE-only invite routes nothing: its routing is ignored.
- An Urgent Care exam goes to a retail pharmacy.
- Partner routing: with ``ProviderChoice.nothing`` the invite names both the pharmacy and the order
  set; with ``order_set`` it names the pharmacy (or an order set that names it), and an order set it
  names is the suggestion the provider starts from; with ``pharmacy_and_order_set`` it names neither.
  An order set given by its legacy ``exam_pos_id`` counts as named. The pharmacy must be active, fulfil
  the exam for this clinic and ship to the patient's state (not checked in test mode); the order set
  must be the clinic's, of the exam, active and of that pharmacy (which it names when none is given).
- Retail routing: the pharmacy's NCPDP id is required unless the patient chooses at the meeting; the
  confirmation screen is skipped only when asked and every pharmacy field is known.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from clinicore.core.models import Exam, OrderSet
from clinicore.core.telehealth import catalog, repository, states
from clinicore.kit.errors import InvalidInput

ZIP_CODE = re.compile(r"^\d{5}(-\d{4})?$")
NCPDPID = re.compile(r"^\d{7}$")


class PharmacyKind(StrEnum):
    partner = "partner"  # a compounding pharmacy of the network, with order sets
    retail = "retail"  # a retail pharmacy of the directory, found by its NCPDP id


class ProviderChoice(StrEnum):
    """What the provider chooses at a partner pharmacy."""

    nothing = "nothing"  # the invite names the pharmacy and the order set
    order_set = "order_set"  # the invite names the pharmacy; the provider picks the order set
    pharmacy_and_order_set = "pharmacy_and_order_set"


class PharmacyBills(StrEnum):
    clinic = "clinic"
    patient = "patient"


class DeliveryMethod(StrEnum):
    pickup = "pickup"  # the patient picks the order up at the pharmacy
    ship = "ship"  # shipped to the patient or the clinic


@dataclass(frozen=True, slots=True)
class RetailPharmacy:
    """A retail pharmacy as the invite names it."""

    ncpdpid: str | None = None
    name: str | None = None
    address_line_1: str | None = None
    address_line_2: str | None = None
    city: str | None = None
    state: str | None = None
    zip_code: str | None = None
    phone: str | None = None
    type: str | None = None

    def is_complete(self) -> bool:
        return all(
            (self.name, self.address_line_1, self.city, self.state, self.zip_code, self.phone, self.ncpdpid)
        )


@dataclass(frozen=True, slots=True)
class PartnerRouting:
    pharmacy_id: int | None = None
    order_set_id: int | None = None
    exam_pos_id: int | None = None  # an order set named by its legacy number (order_set_id wins)
    provider_chooses: ProviderChoice | None = None  # None: not stated


@dataclass(frozen=True, slots=True)
class RetailRouting:
    pharmacy: RetailPharmacy = field(default_factory=RetailPharmacy)
    patient_chooses: bool = False  # the patient picks the pharmacy at the meeting
    skip_confirmation: bool = False  # asked for: honoured only when every pharmacy field is known
    pharmacy_bills: PharmacyBills | None = None
    clinic_billing_reference: str | None = None  # undocumented by vendors: a number or a clinic name
    delivery: DeliveryMethod | None = None


PharmacyRouting = PartnerRouting | RetailRouting


@dataclass(frozen=True, slots=True)
class ResolvedRouting:
    """What the meeting stores for its Rx exam (``kind`` None: a GFE-only meeting routes nothing)."""

    kind: PharmacyKind | None = None
    pharmacy_id: int | None = None
    order_set_id: int | None = None
    provider_chooses: ProviderChoice | None = None
    retail: RetailPharmacy = field(default_factory=RetailPharmacy)
    patient_chooses_pharmacy: bool | None = None
    skip_pharmacy_confirmation: bool = False
    pharmacy_bills: PharmacyBills | None = None
    clinic_billing_reference: str | None = None
    delivery: DeliveryMethod | None = None


# --- small checks shared with the invite -------------------------------------------------------------


def clean_text(value: str | None, *, field: str, limit: int) -> str | None:
    if value is None or not value.strip():
        return None
    value = value.strip()
    if len(value) > limit:
        raise InvalidInput(f"{field}: at most {limit} characters", field=field)
    return value


def clean_state(value: str | None, *, field: str) -> str | None:
    if value is None or not value.strip():
        return None
    try:
        return states.normalise_state(value)
    except InvalidInput:
        raise InvalidInput(f"{field}: {value!r} is not a two-letter U.S. state code", field=field) from None


def clean_zip_code(value: str | None, *, field: str) -> str | None:
    text = clean_text(value, field=field, limit=10)
    if text is not None and not ZIP_CODE.match(text):
        raise InvalidInput(f"{field}: must be a 5-digit ZIP code (or ZIP+4 such as 10001-1234)", field=field)
    return text


# --- retail -------------------------------------------------------------------------------------------


def _retail_pharmacy(pharmacy: RetailPharmacy) -> RetailPharmacy:
    ncpdpid = clean_text(pharmacy.ncpdpid, field="ncpdpid", limit=7)
    if ncpdpid is not None and not NCPDPID.match(ncpdpid):
        raise InvalidInput("ncpdpid: must be the pharmacy's 7-digit NCPDP id", field="ncpdpid")
    return RetailPharmacy(
        ncpdpid=ncpdpid,
        name=clean_text(pharmacy.name, field="pharmacy_name", limit=200),
        address_line_1=clean_text(pharmacy.address_line_1, field="pharmacy_address_line_1", limit=200),
        address_line_2=clean_text(pharmacy.address_line_2, field="pharmacy_address_line_2", limit=200),
        city=clean_text(pharmacy.city, field="pharmacy_city", limit=100),
        state=clean_state(pharmacy.state, field="pharmacy_state"),
        zip_code=clean_zip_code(pharmacy.zip_code, field="pharmacy_zip_code"),
        phone=clean_text(pharmacy.phone, field="pharmacy_phone", limit=32),
        type=clean_text(pharmacy.type, field="pharmacy_type", limit=50),
    )


def _retail_routing(routing: RetailRouting) -> ResolvedRouting:
    pharmacy = _retail_pharmacy(routing.pharmacy)
    if not routing.patient_chooses and pharmacy.ncpdpid is None:
        raise InvalidInput(
            "ncpdpid is required for a retail pharmacy, unless the patient chooses the pharmacy at the "
            "meeting",
            field="ncpdpid",
            rule="routing.retail_pharmacy_needs_ncpdpid",
        )
    return ResolvedRouting(
        kind=PharmacyKind.retail,
        retail=pharmacy,
        patient_chooses_pharmacy=routing.patient_chooses,
        skip_pharmacy_confirmation=routing.skip_confirmation and pharmacy.is_complete(),
        pharmacy_bills=routing.pharmacy_bills,
        clinic_billing_reference=clean_text(
            routing.clinic_billing_reference, field="clinic_billing_reference", limit=200
        ),
        delivery=routing.delivery,
    )


# --- partner ------------------------------------------------------------------------------------------


async def _named_order_set(
    session: AsyncSession, *, clinic_id: uuid.UUID, routing: PartnerRouting
) -> OrderSet | None:
    if routing.order_set_id is not None:
        order_set = await repository.get_order_set(
            session, clinic_id=clinic_id, order_set_id=routing.order_set_id
        )
        if order_set is None:
            raise InvalidInput(
                f"order_set_id: no such order set {routing.order_set_id}", field="order_set_id"
            )
        return order_set
    if routing.exam_pos_id is not None:
        order_set = await repository.order_set_by_exam_pos_id(
            session, clinic_id=clinic_id, exam_pos_id=routing.exam_pos_id
        )
        if order_set is None:
            raise InvalidInput(f"exam_pos_id: no such order set {routing.exam_pos_id}", field="exam_pos_id")
        return order_set
    return None


def _check_what_the_invite_names(
    choice: ProviderChoice | None, *, pharmacy_id: int | None, order_set: OrderSet | None
) -> None:
    if choice == ProviderChoice.nothing and (pharmacy_id is None or order_set is None):
        missing = "pharmacy_id" if pharmacy_id is None else "order_set_id"
        raise InvalidInput(
            f"{missing} is required when the invite names both the pharmacy and the order set",
            field=missing,
            rule="routing.invite_names_both",
            params={"missing": missing},
        )
    if choice == ProviderChoice.order_set and pharmacy_id is None and order_set is None:
        raise InvalidInput(
            "pharmacy_id is required when the provider picks the order set at the invite's pharmacy",
            field="pharmacy_id",
            rule="routing.provider_picks_the_order_set",
        )
    if choice == ProviderChoice.pharmacy_and_order_set and (pharmacy_id is not None or order_set is not None):
        name = "pharmacy_id" if pharmacy_id is not None else "order_set_id"
        raise InvalidInput(
            f"{name}: the provider picks the pharmacy and the order set; leave it out",
            field=name,
            rule="routing.provider_picks_both",
            params={"name": name},
        )


async def _partner_routing(
    session: AsyncSession,
    *,
    clinic_id: uuid.UUID,
    exam: Exam,
    tele_state: str,
    is_test: bool,
    routing: PartnerRouting,
) -> ResolvedRouting:
    pharmacy_id = routing.pharmacy_id
    order_set = await _named_order_set(session, clinic_id=clinic_id, routing=routing)
    _check_what_the_invite_names(routing.provider_chooses, pharmacy_id=pharmacy_id, order_set=order_set)
    if order_set is not None:
        if order_set.exam_id != exam.id or not order_set.is_active:
            raise InvalidInput(
                f"order_set_id: order set {order_set.id} is not an active order set of exam {exam.id}",
                field="order_set_id",
            )
        if pharmacy_id is None:
            pharmacy_id = order_set.pharmacy_id
        elif order_set.pharmacy_id != pharmacy_id:
            raise InvalidInput(
                f"order_set_id: order set {order_set.id} belongs to another pharmacy than {pharmacy_id}",
                field="order_set_id",
            )
    if pharmacy_id is not None:
        if await repository.get_active_partner_pharmacy(session, pharmacy_id) is None:
            raise InvalidInput(f"pharmacy_id: no such partner pharmacy {pharmacy_id}", field="pharmacy_id")
        if not await repository.pharmacy_serves_exam(
            session, clinic_id=clinic_id, pharmacy_id=pharmacy_id, exam_id=exam.id
        ):
            raise InvalidInput(
                f"pharmacy_id: partner pharmacy {pharmacy_id} does not fulfil exam {exam.id}",
                field="pharmacy_id",
                rule="routing.pharmacy_does_not_fulfil_exam",
                params={"pharmacy_id": pharmacy_id, "exam_id": exam.id},
            )
        if not is_test and not await repository.pharmacy_ships_to(
            session, pharmacy_id=pharmacy_id, state=tele_state
        ):
            raise InvalidInput(
                f"pharmacy_id: partner pharmacy {pharmacy_id} does not ship to {tele_state}",
                field="pharmacy_id",
            )
    return ResolvedRouting(
        kind=PharmacyKind.partner,
        pharmacy_id=pharmacy_id,
        order_set_id=order_set.id if order_set is not None else None,
        provider_chooses=routing.provider_chooses,
    )


async def resolve_routing(
    session: AsyncSession,
    *,
    clinic_id: uuid.UUID,
    rx_exam: Exam | None,
    tele_state: str,
    is_test: bool,
    routing: PharmacyRouting | None,
) -> ResolvedRouting:
    """What the meeting stores for its Rx exam; nothing for a GFE-only invite."""
    if rx_exam is None or routing is None:
        return ResolvedRouting()
    if catalog.is_urgent_care(rx_exam) and not isinstance(routing, RetailRouting):
        raise InvalidInput(
            f"pharmacy_routing: {rx_exam.title} is an Urgent Care exam, routed to a retail pharmacy: name "
            "the pharmacy (its NCPDP id and address) or let the patient choose it at the meeting",
            field="pharmacy_routing",
            rule="routing.urgent_care_needs_retail",
            params={"exam_title": rx_exam.title},
        )
    if isinstance(routing, RetailRouting):
        return _retail_routing(routing)
    return await _partner_routing(
        session, clinic_id=clinic_id, exam=rx_exam, tele_state=tele_state, is_test=is_test, routing=routing
    )
