"""Pharmacy services: order sets and their rules, and directory upserts that update in place."""

from __future__ import annotations

import secrets
import uuid
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from clinicore.core.models import RetailPharmacy
from clinicore.core.pharmacy import service as pharmacy_service
from clinicore.core.pharmacy.schemas import DrugItem, RetailPharmacyRecord
from clinicore.kit.errors import InvalidInput, NotFound
from clinicore.runtime import Runtime
from tests.factories import Catalog, create_catalog, create_clinic

ITEM = DrugItem(drug_name="Finasteride", strength="1 mg", form="tablet", quantity="90", days_supply=90)


async def catalog_of_new_clinic(runtime: Runtime) -> tuple[Catalog, uuid.UUID]:
    arranged = await create_clinic(runtime)
    return await create_catalog(runtime, arranged.clinic), arranged.clinic.id


class TestOrderSets:
    async def test_each_order_set_gets_its_own_legacy_exam_pos_id(self, runtime: Runtime) -> None:
        catalog, clinic_id = await catalog_of_new_clinic(runtime)
        async with runtime.sessions() as session, session.begin():
            pharmacy = await pharmacy_service.create_partner_pharmacy(session, name="Evergreen")
            first = await pharmacy_service.create_order_set(
                session,
                clinic_id=clinic_id,
                pharmacy_id=pharmacy.id,
                exam_id=catalog.hair.id,
                title="A",
                items=[ITEM],
                price=Decimal("89.00"),
            )
            second = await pharmacy_service.create_order_set(
                session,
                clinic_id=clinic_id,
                pharmacy_id=pharmacy.id,
                exam_id=catalog.hair.id,
                title="B",
                items=[ITEM],
            )
            found = await pharmacy_service.find_order_set(
                session,
                clinic_id=clinic_id,
                order_set_id=None,
                exam_pos_id=second.exam_pos_id,
            )
        assert first.exam_pos_id != second.exam_pos_id
        assert found.id == second.id

    async def test_a_gfe_exam_takes_no_order_set(self, runtime: Runtime) -> None:
        catalog, clinic_id = await catalog_of_new_clinic(runtime)
        async with runtime.sessions() as session, session.begin():
            pharmacy = await pharmacy_service.create_partner_pharmacy(session, name="Evergreen")
            with pytest.raises(InvalidInput, match="not an Rx exam"):
                await pharmacy_service.create_order_set(
                    session,
                    clinic_id=clinic_id,
                    pharmacy_id=pharmacy.id,
                    exam_id=catalog.botox.id,
                    title="A",
                    items=[ITEM],
                )

    async def test_another_clinics_exam_is_not_found(self, runtime: Runtime) -> None:
        catalog, _ = await catalog_of_new_clinic(runtime)
        other = await create_clinic(runtime)
        async with runtime.sessions() as session, session.begin():
            pharmacy = await pharmacy_service.create_partner_pharmacy(session, name="Evergreen")
            with pytest.raises(NotFound, match="exam_id"):
                await pharmacy_service.link_exam(
                    session, clinic_id=other.clinic.id, pharmacy_id=pharmacy.id, exam_id=catalog.glp1.id
                )
            with pytest.raises(NotFound):
                await pharmacy_service.find_order_set(session, clinic_id=other.clinic.id, order_set_id=5001)

    async def test_an_order_set_needs_a_drug(self, runtime: Runtime) -> None:
        catalog, clinic_id = await catalog_of_new_clinic(runtime)
        async with runtime.sessions() as session, session.begin():
            pharmacy = await pharmacy_service.create_partner_pharmacy(session, name="Evergreen")
            with pytest.raises(InvalidInput, match="items"):
                await pharmacy_service.create_order_set(
                    session,
                    clinic_id=clinic_id,
                    pharmacy_id=pharmacy.id,
                    exam_id=catalog.glp1.id,
                    title="A",
                    items=[],
                )


def identifiers() -> tuple[str, str]:
    return f"{secrets.randbelow(10**7):07d}", f"1{secrets.randbelow(10**9):09d}"


async def entries(runtime: Runtime, *, npi: str, ncpdpid: str) -> list[RetailPharmacy]:
    async with runtime.sessions() as session:
        result = await session.scalars(
            select(RetailPharmacy).where((RetailPharmacy.npi == npi) | (RetailPharmacy.ncpdpid == ncpdpid))
        )
        return list(result)


async def upsert(runtime: Runtime, *records: RetailPharmacyRecord, source: str = "csv") -> int:
    async with runtime.sessions() as session, session.begin():
        return await pharmacy_service.upsert_retail_pharmacies(session, records=records, source=source)


class TestDirectoryUpserts:
    async def test_a_reimport_updates_in_place(self, runtime: Runtime) -> None:
        ncpdpid, npi = identifiers()
        await upsert(runtime, RetailPharmacyRecord(name="Old Name", ncpdpid=ncpdpid, zip_code="10001"))
        await upsert(
            runtime, RetailPharmacyRecord(name="New Name", ncpdpid=ncpdpid, npi=npi, zip_code="10002")
        )
        [entry] = await entries(runtime, npi=npi, ncpdpid=ncpdpid)
        assert (entry.name, entry.name_key, entry.zip_code, entry.npi) == (
            "New Name",
            "new name",
            "10002",
            npi,
        )

    async def test_the_last_record_of_a_key_wins_within_a_batch(self, runtime: Runtime) -> None:
        ncpdpid, npi = identifiers()
        written = await upsert(
            runtime,
            RetailPharmacyRecord(name="First", ncpdpid=ncpdpid),
            RetailPharmacyRecord(name="Second", ncpdpid=ncpdpid),
        )
        [entry] = await entries(runtime, npi=npi, ncpdpid=ncpdpid)
        assert written == 1 and entry.name == "Second"

    async def test_an_npi_only_entry_takes_the_ncpdpid_of_a_csv_record_with_its_npi(
        self, runtime: Runtime
    ) -> None:
        ncpdpid, npi = identifiers()
        await upsert(runtime, RetailPharmacyRecord(name="FROM NPPES", npi=npi), source="nppes")
        await upsert(runtime, RetailPharmacyRecord(name="From CSV", npi=npi, ncpdpid=ncpdpid))
        [entry] = await entries(runtime, npi=npi, ncpdpid=ncpdpid)
        assert (entry.name, entry.npi, entry.ncpdpid, entry.source) == ("From CSV", npi, ncpdpid, "csv")
        # a later NPPES refresh, keyed by NPI, updates that same entry and keeps its NCPDP id
        await upsert(runtime, RetailPharmacyRecord(name="NPPES AGAIN", npi=npi), source="nppes")
        [entry] = await entries(runtime, npi=npi, ncpdpid=ncpdpid)
        assert (entry.name, entry.ncpdpid) == ("NPPES AGAIN", ncpdpid)

    async def test_two_entries_joined_by_a_record_merge_into_one(self, runtime: Runtime) -> None:
        ncpdpid, npi = identifiers()
        await upsert(runtime, RetailPharmacyRecord(name="By NPI", npi=npi), source="nppes")
        await upsert(runtime, RetailPharmacyRecord(name="By NCPDP", ncpdpid=ncpdpid))
        await upsert(runtime, RetailPharmacyRecord(name="Both", npi=npi, ncpdpid=ncpdpid))
        [entry] = await entries(runtime, npi=npi, ncpdpid=ncpdpid)
        assert (entry.name, entry.npi, entry.ncpdpid) == ("Both", npi, ncpdpid)

    async def test_an_npi_moving_to_another_ncpdpid_leaves_the_old_entry(self, runtime: Runtime) -> None:
        old_ncpdpid, npi = identifiers()
        new_ncpdpid, _ = identifiers()
        await upsert(runtime, RetailPharmacyRecord(name="Old Store", npi=npi, ncpdpid=old_ncpdpid))
        await upsert(runtime, RetailPharmacyRecord(name="New Store", npi=npi, ncpdpid=new_ncpdpid))
        async with runtime.sessions() as session:
            old = await pharmacy_service.retail_pharmacy_by_ncpdpid(session, ncpdpid=old_ncpdpid)
            new = await pharmacy_service.retail_pharmacy_by_ncpdpid(session, ncpdpid=new_ncpdpid)
            total = await session.scalar(
                select(func.count()).select_from(RetailPharmacy).where(RetailPharmacy.npi == npi)
            )
        assert old is not None and old.npi is None
        assert new is not None and new.npi == npi
        assert total == 1
