"""Migration 0005 on a database holding what the old invite left behind: one client into which an
integration's shared sample phone merged four patients, each later invite overwriting the client.

The database is arranged at head with the models, taken down to 0004 (which drops the per-invite
patient columns, as the old schema had none) and brought up again, so that the revision's recovery runs
on exactly the rows the old code wrote."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from clinicore.core.events import service as events_service
from clinicore.core.models import (
    Client,
    Counter,
    Event,
    Meeting,
    OutboundEmail,
    OutboundSms,
    PatientExam,
    PatientExamStatus,
)
from clinicore.core.telehealth.events import AGGREGATE, PATIENT_EXAM_COMPLETED
from clinicore.kit.clock import FrozenClock
from clinicore.runtime import Runtime
from tests.factories import create_catalog, create_clinic
from tests.migrations.conftest import migrate, migrated_runtime

T0 = datetime(2031, 3, 3, 15, 0, tzinfo=UTC)
PHONE = "+15552223232"  # the doc's sample number, sent for every patient


@pytest.fixture
async def runtime(database_url: str, tmp_path: Path) -> AsyncIterator[Runtime]:
    opened = await migrated_runtime(database_url, tmp_path, FrozenClock(T0))
    yield opened
    await opened.close()


def patient(first: str, last: str, email: str) -> dict[str, str]:
    return {"first_name": first, "last_name": last, "email": email, "phone": PHONE}


async def arrange_merged_client(runtime: Runtime) -> dict[str, Any]:
    """Client 1 took four invites (alice, bob, dave, carol) through the shared phone and now holds
    carol's details; client 2 is dave, who also came in by his own email once."""
    clinic = (await create_clinic(runtime)).clinic
    botox = (await create_catalog(runtime, clinic)).botox
    clock = FrozenClock(T0)
    ids: dict[str, Any] = {"clinic": clinic.id}
    async with runtime.sessions() as session, session.begin():
        merged = Client(
            clinic_id=clinic.id,
            number=1,
            first_name="Carol",
            last_name="Cole",
            email="carol@patients.example.com",
            phone=PHONE,
            date_of_birth=date(1980, 1, 1),
            created_at=T0,
            updated_at=T0,
        )
        dave = Client(
            clinic_id=clinic.id,
            number=2,
            first_name="Dave",
            last_name="Diaz",
            email="dave@patients.example.com",
            phone="+12125550100",
            created_at=T0,
            updated_at=T0,
        )
        session.add_all([merged, dave])
        session.add(Counter(name=f"client:{clinic.id}", value=2))
        await session.flush()
        ids["merged"], ids["dave_client"] = merged.id, dave.id
        for name, minutes in (("alice", 0), ("bob", 10), ("dave", 15), ("carol", 20)):
            created = T0 + timedelta(minutes=minutes)
            meeting = Meeting(
                clinic_id=clinic.id,
                client_id=merged.id,
                patient_first_name="-",  # dropped by the downgrade: the old schema had no such columns
                patient_last_name="-",
                patient_email="-",
                patient_phone="-",
                tele_state="NY",
                source="qualiphy",
                invites_sent=1,
                created_at=created,
                updated_at=created,
            )
            session.add(meeting)
            await session.flush()
            session.add(
                PatientExam(
                    clinic_id=clinic.id,
                    meeting_id=meeting.id,
                    exam_id=botox.id,
                    client_id=merged.id,
                    tele_state="NY",
                    status=PatientExamStatus.completed,
                    created_at=created,
                    updated_at=created,
                )
            )
            ids[name] = meeting.id
        # alice's exam was decided before bob's invite: its event names alice.
        clock.set(T0 + timedelta(minutes=1))
        await emit_completed(
            session, clinic.id, ids["alice"], patient("Alice", "Adams", "alice@x.example"), clock
        )
        # bob's was decided after carol's invite had overwritten the client: its event names carol.
        clock.set(T0 + timedelta(minutes=30))
        await emit_completed(
            session, clinic.id, ids["bob"], patient("Carol", "Cole", "carol@patients.example.com"), clock
        )
        # ... but bob's invite email and text message are in the outbox.
        link = f"http://testserver/meet/{ids['bob']}?signature=abc"
        session.add(
            OutboundEmail(
                clinic_id=clinic.id,
                to_address="bob@patients.example.com",
                subject="Glow: your telehealth visit is ready",
                body=f"Hello Bob,\n\nGlow has invited you.\n\nStart your visit here:\n{link}\n",
                next_attempt_at=T0,
                created_at=T0 + timedelta(minutes=10),
            )
        )
        session.add(
            OutboundSms(
                clinic_id=clinic.id,
                to_number="+15550001111",
                body=f"Glow: your telehealth visit is ready. Start here: {link}",
                next_attempt_at=T0,
                created_at=T0 + timedelta(minutes=10),
            )
        )
        clock.set(T0 + timedelta(minutes=16))
        await emit_completed(
            session, clinic.id, ids["dave"], patient("Dave", "Diaz", "DAVE@patients.example.com"), clock
        )
    return ids


async def emit_completed(
    session: Any, clinic_id: uuid.UUID, meeting_id: uuid.UUID, named: dict[str, str], clock: FrozenClock
) -> None:
    await events_service.emit(
        session,
        clinic_id=clinic_id,
        type=PATIENT_EXAM_COMPLETED,
        aggregate_type=AGGREGATE,
        aggregate_id=meeting_id,
        payload={"patient_exam": {"id": 1}, "patient": named},
        clock=clock,
    )


async def test_merged_patients_are_split_and_each_meeting_keeps_its_own_patient(
    runtime: Runtime, database_url: str
) -> None:
    ids = await arrange_merged_client(runtime)
    await runtime.engine.dispose()
    await migrate(database_url, "0004", down=True)
    await migrate(database_url, "head")

    async with runtime.sessions() as session:
        meetings = {name: await session.get(Meeting, ids[name]) for name in ("alice", "bob", "dave", "carol")}
        clients = {
            client.id: client
            for client in await session.scalars(select(Client).where(Client.clinic_id == ids["clinic"]))
        }
        exams = (
            await session.scalars(select(PatientExam).where(PatientExam.clinic_id == ids["clinic"]))
        ).all()
        events = {
            event.aggregate_id: event.payload
            for event in await session.scalars(select(Event).where(Event.clinic_id == ids["clinic"]))
        }

    snapshot = {
        name: (m.patient_first_name, m.patient_last_name, m.patient_email, m.patient_phone)
        for name, m in meetings.items()
        if m is not None
    }
    assert snapshot == {
        "alice": ("Alice", "Adams", "alice@x.example", PHONE),  # from its event
        "bob": ("Bob", "", "bob@patients.example.com", "+15550001111"),  # from the outbox
        "dave": ("Dave", "Diaz", "DAVE@patients.example.com", PHONE),
        "carol": ("Carol", "Cole", "carol@patients.example.com", PHONE),  # the client's own details
    }
    owners = {name: clients[m.client_id] for name, m in meetings.items() if m is not None}
    assert owners["carol"].id == ids["merged"] and owners["carol"].email == "carol@patients.example.com"
    assert owners["dave"].id == ids["dave_client"]  # the clinic already knew dave by his email
    assert (owners["alice"].number, owners["alice"].email, owners["alice"].first_name) == (
        3,
        "alice@x.example",
        "Alice",
    )
    assert (owners["bob"].number, owners["bob"].email, owners["bob"].phone) == (
        4,
        "bob@patients.example.com",
        "+15550001111",
    )
    assert len(clients) == 4
    assert {exam.meeting_id: exam.client_id for exam in exams} == {
        m.id: m.client_id for m in meetings.values() if m is not None
    }
    assert meetings["carol"] is not None and meetings["carol"].patient_date_of_birth == date(1980, 1, 1)
    assert meetings["alice"] is not None and meetings["alice"].patient_date_of_birth is None
    # bob's event named carol; a replay now sends bob.
    assert events[str(ids["bob"])]["patient"]["email"] == "bob@patients.example.com"
    assert events[str(ids["alice"])]["patient"]["email"] == "alice@x.example"

    async with runtime.sessions() as session:
        counter = await session.get(Counter, f"client:{ids['clinic']}")
    assert counter is not None and counter.value == 4


async def test_a_client_who_was_never_merged_is_left_as_it_is(runtime: Runtime, database_url: str) -> None:
    clinic = (await create_clinic(runtime)).clinic
    botox = (await create_catalog(runtime, clinic)).botox
    clocked = dataclasses.replace(runtime, clock=FrozenClock(T0))
    async with clocked.sessions() as session, session.begin():
        client = Client(
            clinic_id=clinic.id,
            number=1,
            first_name="Jane",
            last_name="Doe",
            email="jane@patients.example.com",
            phone=PHONE,
            created_at=T0,
            updated_at=T0,
        )
        session.add(client)
        await session.flush()
        for minutes in (0, 5):
            meeting = Meeting(
                clinic_id=clinic.id,
                client_id=client.id,
                patient_first_name="-",
                patient_last_name="-",
                patient_email="-",
                patient_phone="-",
                tele_state="NY",
                source="qualiphy",
                invites_sent=1,
                created_at=T0 + timedelta(minutes=minutes),
                updated_at=T0,
            )
            session.add(meeting)
            await session.flush()
            session.add(
                PatientExam(
                    clinic_id=clinic.id,
                    meeting_id=meeting.id,
                    exam_id=botox.id,
                    client_id=client.id,
                    tele_state="NY",
                    created_at=T0,
                    updated_at=T0,
                )
            )
    await runtime.engine.dispose()
    await migrate(database_url, "0004", down=True)
    await migrate(database_url, "head")
    async with runtime.sessions() as session:
        clients = (await session.scalars(select(Client).where(Client.clinic_id == clinic.id))).all()
        meetings = (await session.scalars(select(Meeting).where(Meeting.clinic_id == clinic.id))).all()
    assert [row.id for row in clients] == [client.id]
    assert {(m.client_id, m.patient_first_name, m.patient_email) for m in meetings} == {
        (client.id, "Jane", "jane@patients.example.com")
    }
