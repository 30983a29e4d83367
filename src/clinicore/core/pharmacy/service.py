"""Pharmacy use cases: the partner network (pharmacies, the states they ship to, the clinics' exams
they fulfil, their order sets) and the retail directory (search, and the upserts an import makes)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from clinicore.core.models import (
    OrderSet,
    OrderSetItem,
    PartnerPharmacy,
    PartnerPharmacyExam,
    PartnerPharmacyState,
    RetailPharmacy,
    RxType,
)
from clinicore.core.pharmacy import repository
from clinicore.core.pharmacy.schemas import (
    DrugItem,
    PartnerPharmacyMatch,
    RetailPharmacyRecord,
    TreatmentPackage,
)
from clinicore.core.telehealth import catalog
from clinicore.core.telehealth.states import SERVED_STATES, normalise_state
from clinicore.core.telehealth.test_mode import TEST_STATE
from clinicore.kit.clock import Clock, system_clock
from clinicore.kit.contact import phone_or_as_written
from clinicore.kit.errors import InvalidInput, NotFound

FIRST_EXAM_POS_ID = 9001  # legacy numbers live in their own range, apart from order set ids
RETAIL_SEARCH_LIMIT = 50
MIN_SEARCH_LENGTH = 2


# --- normalisation shared with the importer -------------------------------------------------------


def name_key(name: str) -> str:
    """The searchable form of a name: lower case, single spaces."""
    return " ".join(name.lower().split())


def normalise_zip(value: str | None) -> str | None:
    """Five digits (the first five of a ZIP+4, with or without its dash), or None."""
    digits = "".join(ch for ch in (value or "") if ch.isdigit())
    if len(digits) in (5, 9):
        return digits[:5]
    return None


def normalise_phone(value: str | None) -> str | None:
    """E.164 for a valid U.S. number; anything else is kept as written (trimmed), blank is None."""
    return phone_or_as_written(value)


def normalise_ncpdpid(value: str | None) -> str | None:
    """NCPDP provider ids are seven digits (a leading zero lost by a spreadsheet is put back)."""
    raw = (value or "").strip()
    if not raw:
        return None
    if not raw.isdigit() or len(raw) > 7:
        raise InvalidInput(f"ncpdpid: {raw!r} is not an NCPDP id (seven digits)", field="ncpdpid")
    return raw.zfill(7)


def normalise_npi(value: str | None) -> str | None:
    raw = (value or "").strip()
    if not raw:
        return None
    if not raw.isdigit() or len(raw) != 10:
        raise InvalidInput(f"npi: {raw!r} is not an NPI (ten digits)", field="npi")
    return raw


# --- partner network ------------------------------------------------------------------------------


async def create_partner_pharmacy(
    session: AsyncSession,
    *,
    name: str,
    states: Sequence[str] | None = None,
    email: str | None = None,
    phone: str | None = None,
    ncpdpid: str | None = None,
    address_line_1: str | None = None,
    city: str | None = None,
    state: str | None = None,
    zip_code: str | None = None,
    clock: Clock = system_clock,
) -> PartnerPharmacy:
    """A pharmacy of the network shipping to ``states`` (None: every served state)."""
    if not name.strip():
        raise InvalidInput("name: must not be empty", field="name")
    ships_to = SERVED_STATES if states is None else {normalise_state(code) for code in states}
    pharmacy = PartnerPharmacy(
        name=name.strip(),
        email=email.strip().lower() if email else None,
        phone=normalise_phone(phone),
        ncpdpid=normalise_ncpdpid(ncpdpid),
        address_line_1=address_line_1,
        city=city,
        state=normalise_state(state) if state else None,
        zip_code=normalise_zip(zip_code),
        is_active=True,
        created_at=clock.now(),
    )
    session.add(pharmacy)
    await session.flush()
    session.add_all(PartnerPharmacyState(pharmacy_id=pharmacy.id, state=code) for code in sorted(ships_to))
    await session.flush()
    return pharmacy


async def get_partner_pharmacy(session: AsyncSession, *, pharmacy_id: int) -> PartnerPharmacy:
    pharmacy = await repository.get_partner_pharmacy(session, pharmacy_id=pharmacy_id)
    if pharmacy is None or not pharmacy.is_active:
        raise NotFound(f"pharmacy_id: no partner pharmacy {pharmacy_id}", field="pharmacy_id")
    return pharmacy


async def partner_pharmacy_by_name(session: AsyncSession, *, name: str) -> PartnerPharmacy | None:
    return await repository.get_partner_pharmacy_by_name(session, name=name.strip())


async def _clinic_rx_exam(session: AsyncSession, *, clinic_id: uuid.UUID, exam_id: int) -> None:
    exams = await catalog.exams_by_id(session, clinic_id=clinic_id, exam_ids=[exam_id])
    exam = exams.get(exam_id)
    if exam is None:
        raise NotFound(f"exam_id: no exam {exam_id}", field="exam_id")
    if exam.rx_type != RxType.rx:
        raise InvalidInput(f"exam_id: exam {exam_id} is not an Rx exam", field="exam_id")


async def link_exam(
    session: AsyncSession, *, clinic_id: uuid.UUID, pharmacy_id: int, exam_id: int
) -> PartnerPharmacyExam:
    """Let a partner pharmacy fulfil one of the clinic's Rx exams (linking twice is harmless)."""
    await get_partner_pharmacy(session, pharmacy_id=pharmacy_id)
    await _clinic_rx_exam(session, clinic_id=clinic_id, exam_id=exam_id)
    existing = await repository.get_exam_link(
        session, clinic_id=clinic_id, pharmacy_id=pharmacy_id, exam_id=exam_id
    )
    if existing is not None:
        return existing
    link = PartnerPharmacyExam(pharmacy_id=pharmacy_id, exam_id=exam_id, clinic_id=clinic_id)
    session.add(link)
    await session.flush()
    return link


async def create_order_set(
    session: AsyncSession,
    *,
    clinic_id: uuid.UUID,
    pharmacy_id: int,
    exam_id: int,
    title: str,
    items: Sequence[DrugItem],
    price: Decimal | None = None,
    exam_pos_id: int | None = None,
    clock: Clock = system_clock,
) -> OrderSet:
    """A treatment package of a pharmacy for one of the clinic's Rx exams (linking them if needed),
    with its legacy ``exam_pos_id`` (the next free one unless given)."""
    if not title.strip():
        raise InvalidInput("title: must not be empty", field="title")
    if not items:
        raise InvalidInput("items: an order set needs at least one drug", field="items")
    if price is not None and price < 0:
        raise InvalidInput("price: must not be negative", field="price")
    for number, item in enumerate(items, start=1):
        if not item.drug_name.strip():
            raise InvalidInput(f"items[{number}].drug_name: must not be empty", field="items")
        if item.refills < 0 or (item.days_supply is not None and item.days_supply <= 0):
            raise InvalidInput(f"items[{number}]: refills and days' supply must be positive", field="items")
    await link_exam(session, clinic_id=clinic_id, pharmacy_id=pharmacy_id, exam_id=exam_id)
    if exam_pos_id is None:
        exam_pos_id = await repository.next_exam_pos_id(session, first=FIRST_EXAM_POS_ID)
    order_set = OrderSet(
        exam_pos_id=exam_pos_id,
        clinic_id=clinic_id,
        exam_id=exam_id,
        pharmacy_id=pharmacy_id,
        title=title.strip(),
        price=price,
        is_active=True,
        created_at=clock.now(),
    )
    session.add(order_set)
    await session.flush()
    session.add_all(
        OrderSetItem(order_set_id=order_set.id, position=position, **item.columns())
        for position, item in enumerate(items, start=1)
    )
    await session.flush()
    return order_set


async def order_sets_for_exam(
    session: AsyncSession, *, clinic_id: uuid.UUID, pharmacy_id: int, exam_id: int
) -> Sequence[OrderSet]:
    return await repository.order_sets_for_exam(
        session, clinic_id=clinic_id, pharmacy_id=pharmacy_id, exam_id=exam_id
    )


async def find_order_set(
    session: AsyncSession, *, clinic_id: uuid.UUID, order_set_id: int | None, exam_pos_id: int | None = None
) -> OrderSet:
    """The clinic's order set by ``order_set_id``, or by the legacy ``exam_pos_id`` when no id is given."""
    order_set = await repository.find_order_set(
        session, clinic_id=clinic_id, order_set_id=order_set_id, exam_pos_id=exam_pos_id
    )
    if order_set is None or not order_set.is_active:
        wanted = f"order_set_id {order_set_id}" if order_set_id is not None else f"exam_pos_id {exam_pos_id}"
        raise NotFound(f"order_set_id: no order set with {wanted}", field="order_set_id")
    return order_set


async def order_set_items(session: AsyncSession, *, order_set_id: int) -> Sequence[OrderSetItem]:
    return await repository.items_of(session, order_set_ids=[order_set_id])


def _patient_state(value: str) -> str | None:
    """The state to filter on: ``TE`` (test mode) matches every pharmacy, as test exams route anywhere."""
    state = value.strip().upper()
    return None if state == TEST_STATE else state


async def partner_pharmacies(
    session: AsyncSession, *, clinic_id: uuid.UUID, exam_ids: Sequence[int], patient_state: str
) -> Sequence[PartnerPharmacyMatch]:
    """Active partner pharmacies fulfilling any of the clinic's exams given and shipping to the state."""
    if not exam_ids:
        return []
    rows = await repository.pharmacies_serving(
        session, clinic_id=clinic_id, exam_ids=exam_ids, state=_patient_state(patient_state)
    )
    grouped: dict[int, tuple[PartnerPharmacy, list[int]]] = {}
    for pharmacy, exam_id in rows:
        grouped.setdefault(pharmacy.id, (pharmacy, []))[1].append(exam_id)
    return [PartnerPharmacyMatch(pharmacy=pharmacy, exam_ids=ids) for pharmacy, ids in grouped.values()]


async def treatment_packages(
    session: AsyncSession,
    *,
    clinic_id: uuid.UUID,
    pharmacy_ids: Sequence[int],
    exam_ids: Sequence[int],
    patient_state: str,
) -> Sequence[TreatmentPackage]:
    """Active order sets of those pharmacies for the clinic's exams given, where the pharmacy ships
    to the state; each with its drug items."""
    if not pharmacy_ids or not exam_ids:
        return []
    rows = await repository.order_sets_of(
        session,
        clinic_id=clinic_id,
        pharmacy_ids=pharmacy_ids,
        exam_ids=exam_ids,
        state=_patient_state(patient_state),
    )
    items: dict[int, list[OrderSetItem]] = {}
    for item in await repository.items_of(session, order_set_ids=[order_set.id for order_set, _ in rows]):
        items.setdefault(item.order_set_id, []).append(item)
    return [
        TreatmentPackage(order_set=order_set, pharmacy=pharmacy, items=items.get(order_set.id, []))
        for order_set, pharmacy in rows
    ]


# --- retail directory -----------------------------------------------------------------------------


async def search_retail(
    session: AsyncSession,
    *,
    search: str | None,
    zip_code: str | None,
    ncpdpid: str | None,
    limit: int = RETAIL_SEARCH_LIMIT,
) -> Sequence[RetailPharmacy]:
    """The directory's active pharmacies matching every criterion given: a name (or part of one),
    a ZIP code (the five digits of a ZIP+4 count), an NCPDP id. At least one is required."""
    if not (search or zip_code or ncpdpid):
        raise InvalidInput("search, zip_code or ncpdpid is required", field="search")
    key = name_key(search) if search else None
    if key is not None and len(key) < MIN_SEARCH_LENGTH:
        raise InvalidInput(f"search: must be at least {MIN_SEARCH_LENGTH} characters", field="search")
    zip5 = None
    if zip_code:
        zip5 = normalise_zip(zip_code)
        if zip5 is None:
            raise InvalidInput(f"zip_code: {zip_code!r} is not a 5-digit ZIP code", field="zip_code")
    return await repository.search_retail(
        session, name_key=key, zip_code=zip5, ncpdpid=normalise_ncpdpid(ncpdpid), limit=limit
    )


async def retail_pharmacy_by_ncpdpid(session: AsyncSession, *, ncpdpid: str) -> RetailPharmacy | None:
    key = normalise_ncpdpid(ncpdpid)
    return await repository.get_retail_by_ncpdpid(session, ncpdpid=key) if key else None


def _row(record: RetailPharmacyRecord, *, source: str, clock: Clock) -> dict[str, Any]:
    return {
        "id": uuid.uuid4(),
        "ncpdpid": record.ncpdpid,
        "npi": record.npi,
        "name": record.name,
        "name_key": name_key(record.name)[:200],
        "address_line_1": record.address_line_1,
        "address_line_2": record.address_line_2,
        "city": record.city,
        "state": record.state,
        "zip_code": record.zip_code,
        "phone": record.phone,
        "fax": record.fax,
        "pharmacy_type": record.pharmacy_type,
        "taxonomy_code": record.taxonomy_code,
        "source": source,
        "is_active": record.is_active,
        "updated_at": clock.now(),
    }


async def upsert_retail_pharmacies(
    session: AsyncSession,
    *,
    records: Sequence[RetailPharmacyRecord],
    source: str,
    clock: Clock = system_clock,
) -> int:
    """Insert or refresh directory entries, keyed by NCPDP id when the record has one, else by NPI.

    A re-import updates in place. When a record joins identifiers held by two entries (an NPPES entry
    known by its NPI and a CSV entry by its NCPDP id), the newest record wins: the NPI-only entry is
    merged into it. Returns the number of records written.
    """
    by_ncpdpid: dict[str, RetailPharmacyRecord] = {}
    by_npi: dict[str, RetailPharmacyRecord] = {}
    for record in records:  # the last record of a key wins within a batch
        if record.ncpdpid:
            by_ncpdpid[record.ncpdpid] = record
        elif record.npi:
            by_npi[record.npi] = record
    # An NPI given with an NCPDP id belongs to that entry; a record keyed by NPI alone then updates it.
    npi_owner = {record.npi: ncpdpid for ncpdpid, record in by_ncpdpid.items() if record.npi}
    keyed_rows = [
        _row(record, source=source, clock=clock)
        | {"npi": record.npi if record.npi and npi_owner.get(record.npi) == ncpdpid else None}
        for ncpdpid, record in by_ncpdpid.items()
    ]
    if keyed_rows:
        await _free_identifiers(session, wanted={npi: ncpdpid for npi, ncpdpid in npi_owner.items()})
        await repository.upsert_retail(
            session,
            rows=keyed_rows,
            key="ncpdpid",
            refresh=(*repository.RETAIL_REFRESHED, "npi"),
        )
    npi_rows = [_row(record, source=source, clock=clock) for record in by_npi.values()]
    await repository.upsert_retail(session, rows=npi_rows, key="npi", refresh=repository.RETAIL_REFRESHED)
    return len(keyed_rows) + len(npi_rows)


async def _free_identifiers(session: AsyncSession, *, wanted: dict[str, str]) -> None:
    """Before upserting by NCPDP id, make each NPI wanted by an NCPDP id available to it: an NPI-only
    entry takes the NCPDP id (or is merged away when that id already has its entry); an entry with
    another NCPDP id gives the NPI up."""
    if not wanted:
        return
    existing = await repository.retail_keys(session, npis=wanted.keys(), ncpdpids=wanted.values())
    held_ncpdpids = {ncpdpid for _, _, ncpdpid in existing if ncpdpid}
    merged_away: list[uuid.UUID] = []
    for entry_id, npi, ncpdpid in existing:
        if npi is None or npi not in wanted or ncpdpid == wanted[npi]:
            continue
        if ncpdpid is None and wanted[npi] not in held_ncpdpids:
            await repository.set_retail_keys(session, entry_id=entry_id, npi=npi, ncpdpid=wanted[npi])
            held_ncpdpids.add(wanted[npi])
        elif ncpdpid is None:
            merged_away.append(entry_id)
        else:
            await repository.set_retail_keys(session, entry_id=entry_id, npi=None, ncpdpid=ncpdpid)
    await repository.delete_retail(session, entry_ids=merged_away)


async def deactivate_retail_pharmacies(
    session: AsyncSession, *, npis: Sequence[str], clock: Clock = system_clock
) -> int:
    """Mark the directory entries of deactivated NPIs inactive (they leave the search). Returns how many."""
    return await repository.deactivate_retail_by_npi(session, npis=npis, now=clock.now())
