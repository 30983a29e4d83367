"""The console's exam queries in the core: each filter, the outcome filter across later statuses, the
clinic scope, the timeline with who made each move, and a refused date range."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from clinicore.core.audit.service import Actor
from clinicore.core.models import ExamOutcome
from clinicore.core.telehealth import exam_views, invites, lifecycle
from clinicore.core.telehealth.exam_views import ExamFilter, ExamListStatus, ExamMode
from clinicore.kit.clock import FrozenClock
from clinicore.kit.errors import InvalidInput, NotFound
from clinicore.runtime import Runtime
from tests.factories import (
    TEST_NAMES,
    answer_all,
    create_catalog,
    create_clinic,
    create_live_provider,
    create_meeting,
)

NOW = datetime(2031, 3, 3, 15, 0, tzinfo=UTC)


@pytest.fixture
def frozen(runtime: Runtime) -> Runtime:
    return dataclasses.replace(runtime, clock=FrozenClock(NOW))


async def listed(runtime: Runtime, clinic_id: object, **filters: object) -> list[int]:
    async with runtime.sessions() as session:
        rows = await exam_views.list_exams(
            session,
            clinic_id=clinic_id,  # type: ignore[arg-type]
            filters=ExamFilter(**filters),  # type: ignore[arg-type]
            limit=100,
        )
    return [row.patient_exam.id for row in rows]


class TestListExams:
    async def test_each_filter_narrows_the_list(self, frozen: Runtime) -> None:
        arranged = await create_clinic(frozen)
        catalog = await create_catalog(frozen, arranged.clinic)
        live = (await create_meeting(frozen, arranged.clinic, [catalog.botox])).patient_exam
        test = (
            await create_meeting(
                frozen, arranged.clinic, [catalog.filler], test_outcome=next(iter(TEST_NAMES))
            )
        ).patient_exam
        clinic_id = arranged.clinic.id
        assert set(await listed(frozen, clinic_id)) == {live.id, test.id}
        assert await listed(frozen, clinic_id, mode=ExamMode.live) == [live.id]
        assert await listed(frozen, clinic_id, mode=ExamMode.test) == [test.id]
        assert await listed(frozen, clinic_id, exam_id=catalog.filler.id) == [test.id]
        assert await listed(frozen, clinic_id, created_from=NOW + timedelta(seconds=1)) == []
        assert set(await listed(frozen, clinic_id, created_before=NOW + timedelta(seconds=1))) == {
            live.id,
            test.id,
        }
        assert await listed(frozen, clinic_id, client_id=live.client_id) == [live.id]

    async def test_an_outcome_filter_finds_the_exam_after_later_moves(self, frozen: Runtime) -> None:
        arranged = await create_clinic(frozen)
        catalog = await create_catalog(frozen, arranged.clinic)
        exam = (await create_meeting(frozen, arranged.clinic, [catalog.botox])).patient_exam
        await answer_all(frozen, exam)
        provider = await create_live_provider(frozen, states=("NY",))
        async with frozen.sessions() as session, session.begin():
            await lifecycle.join_waiting_room(
                session, meeting_id=exam.meeting_id, patient_exam_id=exam.id, clock=frozen.clock
            )
            await lifecycle.take_exam(
                session, provider_id=provider.id, patient_exam_id=exam.id, clock=frozen.clock
            )
            await lifecycle.decide(
                session,
                provider_id=provider.id,
                patient_exam_id=exam.id,
                outcome=ExamOutcome.rejected,
                reason="Contraindicated.",
                links=frozen.links,
                clock=frozen.clock,
            )
        clinic_id = arranged.clinic.id
        assert await listed(frozen, clinic_id, status=ExamListStatus.rejected) == [exam.id]
        assert await listed(frozen, clinic_id, status=ExamListStatus.approved) == []
        assert await listed(frozen, clinic_id, status=ExamListStatus.pending) == []

    async def test_another_clinics_exams_are_never_listed_nor_opened(self, frozen: Runtime) -> None:
        theirs = await create_clinic(frozen)
        their_catalog = await create_catalog(frozen, theirs.clinic)
        their_exam = (await create_meeting(frozen, theirs.clinic, [their_catalog.botox])).patient_exam
        mine = await create_clinic(frozen)
        assert await listed(frozen, mine.clinic.id) == []
        async with frozen.sessions() as session:
            with pytest.raises(NotFound):
                await exam_views.exam_detail(session, clinic_id=mine.clinic.id, patient_exam_id=their_exam.id)

    async def test_a_range_that_ends_before_it_starts_is_refused(self, frozen: Runtime) -> None:
        arranged = await create_clinic(frozen)
        async with frozen.sessions() as session:
            with pytest.raises(InvalidInput, match="created: the range ends before it starts"):
                await exam_views.list_exams(
                    session,
                    clinic_id=arranged.clinic.id,
                    filters=ExamFilter(created_from=NOW, created_before=NOW - timedelta(days=1)),
                    limit=10,
                )


class TestTimeline:
    async def test_each_move_with_who_made_it(self, frozen: Runtime) -> None:
        arranged = await create_clinic(frozen)
        catalog = await create_catalog(frozen, arranged.clinic)
        exam = (await create_meeting(frozen, arranged.clinic, [catalog.botox])).patient_exam
        async with frozen.sessions() as session, session.begin():
            await invites.cancel_invite(
                session,
                clinic_id=arranged.clinic.id,
                patient_exam_id=exam.id,
                by=Actor.user(arranged.user.id),
                clock=frozen.clock,
            )
        async with frozen.sessions() as session:
            detail = await exam_views.exam_detail(
                session, clinic_id=arranged.clinic.id, patient_exam_id=exam.id
            )
        # The factory made the exam directly (no creation line): the timeline starts at its creation.
        assert [(entry.to_status, entry.actor_type) for entry in detail.timeline] == [
            ("pending", "unknown"),
            ("cancelled", "user"),
        ]
        assert detail.timeline[-1].actor == "Admin (console)"
        assert not detail.can_cancel and not detail.can_resend
