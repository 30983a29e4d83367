"""Who may join the video call of a patient exam, and when: only while a provider consults it, only its
patient and its provider (the medical director who took it when deferred), each provider's joining
audited."""

from __future__ import annotations

import dataclasses
import secrets

import pytest
from sqlalchemy import select

from clinicore.core.models import AuditEntry, Clinic, ExamOutcome, Provider
from clinicore.core.telehealth import call, desk, lifecycle, providers, visit
from clinicore.core.telehealth.call import CallRole
from clinicore.kit.errors import Conflict, Forbidden, NotFound
from clinicore.runtime import Runtime
from tests.factories import (
    ArrangedMeeting,
    Catalog,
    answer_all,
    create_catalog,
    create_clinic,
    create_meeting,
    first_test_provider,
)


@dataclasses.dataclass
class Arranged:
    runtime: Runtime
    clinic: Clinic
    catalog: Catalog


@pytest.fixture
async def arranged(runtime: Runtime) -> Arranged:
    clinic = (await create_clinic(runtime, name="Call Medspa")).clinic
    return Arranged(runtime, clinic, await create_catalog(runtime, clinic))


async def a_provider(
    arranged: Arranged, *, states: tuple[str, ...] = ("NY",), director: bool = False
) -> Provider:
    async with arranged.runtime.sessions() as session, session.begin():
        return await providers.create_provider(
            session,
            name=f"Dr. {secrets.token_hex(3)}",
            states=states,
            is_medical_director=director,
            license_numbers={state: f"{state}-12345" for state in states},
            clock=arranged.runtime.clock,
        )


async def waiting(arranged: Arranged) -> ArrangedMeeting:
    runtime = arranged.runtime
    created = await create_meeting(runtime, arranged.clinic, [arranged.catalog.botox], tele_state="NY")
    await answer_all(runtime, created.patient_exam)
    async with runtime.sessions() as session, session.begin():
        await lifecycle.join_waiting_room(
            session,
            meeting_id=created.meeting.id,
            patient_exam_id=created.patient_exam.id,
            clock=runtime.clock,
        )
    return created


async def take(arranged: Arranged, created: ArrangedMeeting, who: Provider) -> None:
    async with arranged.runtime.sessions() as session, session.begin():
        await lifecycle.take_exam(
            session, provider_id=who.id, patient_exam_id=created.patient_exam.id, clock=arranged.runtime.clock
        )


async def decide(
    arranged: Arranged,
    created: ArrangedMeeting,
    who: Provider,
    outcome: ExamOutcome,
    reason: str | None = None,
) -> None:
    async with arranged.runtime.sessions() as session, session.begin():
        await lifecycle.decide(
            session,
            provider_id=who.id,
            patient_exam_id=created.patient_exam.id,
            outcome=outcome,
            reason=reason,
            links=arranged.runtime.links,
            clock=arranged.runtime.clock,
        )


async def join_as_provider(arranged: Arranged, created: ArrangedMeeting, who: Provider) -> call.CallSeat:
    async with arranged.runtime.sessions() as session, session.begin():
        return await call.join_as_provider(
            session, provider_id=who.id, patient_exam_id=created.patient_exam.id, clock=arranged.runtime.clock
        )


async def join_as_patient(
    arranged: Arranged, created: ArrangedMeeting, patient_exam_id: int
) -> call.CallSeat:
    async with arranged.runtime.sessions() as session:
        opened = await visit.open_visit(session, meeting_id=created.meeting.id)
    return call.join_as_patient(visit=opened, patient_exam_id=patient_exam_id)


class TestTheProvider:
    async def test_who_took_the_exam_joins_its_call_and_it_is_audited(self, arranged: Arranged) -> None:
        created, who = await waiting(arranged), await a_provider(arranged)
        await take(arranged, created, who)
        seat = await join_as_provider(arranged, created, who)
        assert (seat.patient_exam_id, seat.role) == (created.patient_exam.id, CallRole.provider)
        async with arranged.runtime.sessions() as session:
            entries = await session.scalars(
                select(AuditEntry).where(
                    AuditEntry.action == "patient_exam.call_joined",
                    AuditEntry.target_id == str(created.patient_exam.id),
                )
            )
            assert [entry.actor_id for entry in entries] == [str(who.id)]

    async def test_before_anyone_takes_the_exam_no_provider_joins(self, arranged: Arranged) -> None:
        created, who = await waiting(arranged), await a_provider(arranged)
        with pytest.raises(Forbidden, match="only the provider consulting it"):
            await join_as_provider(arranged, created, who)

    async def test_another_provider_is_refused(self, arranged: Arranged) -> None:
        created, who, other = await waiting(arranged), await a_provider(arranged), await a_provider(arranged)
        await take(arranged, created, who)
        with pytest.raises(Forbidden):
            await join_as_provider(arranged, created, other)

    async def test_a_provider_not_licensed_in_the_state_is_refused(self, arranged: Arranged) -> None:
        created, who = await waiting(arranged), await a_provider(arranged)
        await take(arranged, created, who)
        texan = await a_provider(arranged, states=("TX",))
        with pytest.raises(Forbidden, match="not licensed in NY"):
            await join_as_provider(arranged, created, texan)

    async def test_a_test_mode_provider_does_not_see_a_live_exam(self, arranged: Arranged) -> None:
        created, who = await waiting(arranged), await a_provider(arranged)
        await take(arranged, created, who)
        with pytest.raises(NotFound):
            await join_as_provider(arranged, created, await first_test_provider(arranged.runtime))

    async def test_once_decided_the_call_is_closed(self, arranged: Arranged) -> None:
        created, who = await waiting(arranged), await a_provider(arranged)
        await take(arranged, created, who)
        await decide(arranged, created, who, ExamOutcome.approved)
        with pytest.raises(Conflict, match="only while a provider consults it"):
            await join_as_provider(arranged, created, who)

    async def test_the_medical_director_who_took_a_deferred_exam_joins_and_the_deferring_one_does_not(
        self, arranged: Arranged
    ) -> None:
        created, who = await waiting(arranged), await a_provider(arranged)
        director = await a_provider(arranged, director=True)
        await take(arranged, created, who)
        await decide(arranged, created, who, ExamOutcome.deferred, "A second look, please.")
        with pytest.raises(Forbidden):
            await join_as_provider(arranged, created, director)  # deferred, not taken yet
        async with arranged.runtime.sessions() as session, session.begin():
            await desk.take_deferred(
                session,
                provider_id=director.id,
                patient_exam_id=created.patient_exam.id,
                clock=arranged.runtime.clock,
            )
        assert (await join_as_provider(arranged, created, director)).role == CallRole.provider
        with pytest.raises(Forbidden):
            await join_as_provider(arranged, created, who)


class TestThePatient:
    async def test_joins_once_a_provider_consults_the_exam(self, arranged: Arranged) -> None:
        created, who = await waiting(arranged), await a_provider(arranged)
        with pytest.raises(Conflict):
            await join_as_patient(arranged, created, created.patient_exam.id)
        await take(arranged, created, who)
        seat = await join_as_patient(arranged, created, created.patient_exam.id)
        assert (seat.patient_exam_id, seat.role) == (created.patient_exam.id, CallRole.patient)

    async def test_another_meetings_exam_is_not_found(self, arranged: Arranged) -> None:
        created, other, who = await waiting(arranged), await waiting(arranged), await a_provider(arranged)
        await take(arranged, other, who)
        with pytest.raises(NotFound):
            await join_as_patient(arranged, created, other.patient_exam.id)

    async def test_the_exam_to_call_is_the_one_a_provider_consults(self, arranged: Arranged) -> None:
        created, who = await waiting(arranged), await a_provider(arranged)
        async with arranged.runtime.sessions() as session:
            assert (
                call.patient_call_exam(await visit.open_visit(session, meeting_id=created.meeting.id)) is None
            )
        await take(arranged, created, who)
        async with arranged.runtime.sessions() as session:
            found = call.patient_call_exam(await visit.open_visit(session, meeting_id=created.meeting.id))
        assert found is not None and found.id == created.patient_exam.id


async def test_the_call_stays_open_only_while_the_exam_is_in_consultation(arranged: Arranged) -> None:
    created, who = await waiting(arranged), await a_provider(arranged)
    exam_id = created.patient_exam.id

    async def still_open() -> bool:
        async with arranged.runtime.sessions() as session:
            return await call.call_still_open(session, patient_exam_id=exam_id)

    assert not await still_open()
    await take(arranged, created, who)
    assert await still_open()
    await decide(arranged, created, who, ExamOutcome.approved)
    assert not await still_open()
    async with arranged.runtime.sessions() as session:
        assert not await call.call_still_open(session, patient_exam_id=10**11)


async def test_a_number_beyond_any_exam_id_is_no_exam(arranged: Arranged) -> None:
    who = await a_provider(arranged)
    for number in (0, -1, 2**31, 10**11):
        async with arranged.runtime.sessions() as session:
            with pytest.raises(NotFound):
                await call.join_as_provider(session, provider_id=who.id, patient_exam_id=number)
