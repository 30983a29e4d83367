"""The console's intake report: how many of a clinic's intakes were made over a range of days, by status
and by form.

Days are the clinic's local days, both ends included, on the day each intake was made (as
``intakes.list_intakes`` reads them). A form is counted under the name it was asked with (its template
may since have been renamed or removed).
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from clinicore.core.models import Clinic, Intake, IntakeStatus
from clinicore.kit.errors import InvalidInput, NotFound
from clinicore.kit.local_time import start_of_local_day

MAX_DAYS = 3 * 366  # the widest range a report covers


@dataclass(frozen=True, slots=True)
class FormCount:
    form_name: str
    total: int
    submitted: int


@dataclass(frozen=True, slots=True)
class IntakeReport:
    start: date
    end: date
    by_status: dict[IntakeStatus, int]  # every status, zero included
    by_form: list[FormCount]  # most intakes first
    total: int


def _made(
    clinic_id: uuid.UUID, since: datetime, before: datetime, practitioner_scope: Collection[uuid.UUID] | None
) -> ColumnElement[bool]:
    """The clinic's intakes made in [since, before), of the scope's practitioners (None: everyone's)."""
    made = and_(Intake.clinic_id == clinic_id, Intake.created_at >= since, Intake.created_at < before)
    if practitioner_scope is None:
        return made
    return and_(made, Intake.practitioner_id.in_(list(practitioner_scope)))


async def _counts_by_status(
    session: AsyncSession,
    *,
    clinic_id: uuid.UUID,
    since: datetime,
    before: datetime,
    practitioner_scope: Collection[uuid.UUID] | None,
) -> dict[str, int]:
    rows = await session.execute(
        select(Intake.status, func.count())
        .where(_made(clinic_id, since, before, practitioner_scope))
        .group_by(Intake.status)
    )
    return {status: int(count) for status, count in rows.all()}


async def _counts_by_form(
    session: AsyncSession,
    *,
    clinic_id: uuid.UUID,
    since: datetime,
    before: datetime,
    practitioner_scope: Collection[uuid.UUID] | None,
) -> list[FormCount]:
    submitted = func.sum(case((Intake.status == IntakeStatus.submitted, 1), else_=0))
    rows = await session.execute(
        select(Intake.form_name, func.count(), submitted)
        .where(_made(clinic_id, since, before, practitioner_scope))
        .group_by(Intake.form_name)
        .order_by(func.count().desc(), Intake.form_name)
    )
    return [
        FormCount(form_name=name, total=int(total), submitted=int(done or 0)) for name, total, done in rows
    ]


async def intake_report(
    session: AsyncSession,
    *,
    clinic_id: uuid.UUID,
    start: date,
    end: date,
    practitioner_scope: Collection[uuid.UUID] | None = None,
) -> IntakeReport:
    """Counts of the clinic's intakes made from ``start`` to ``end`` (local days, both included), of the
    scope's practitioners (an assistant's; None: everyone's)."""
    if end < start:
        raise InvalidInput("end: must not be before start", field="end")
    if (end - start).days >= MAX_DAYS:
        raise InvalidInput(f"end: a report covers at most {MAX_DAYS} days", field="end")
    clinic = await session.get(Clinic, clinic_id)
    if clinic is None:
        raise NotFound("clinic not found")
    since = start_of_local_day(start, clinic.time_zone)
    before = start_of_local_day(end + timedelta(days=1), clinic.time_zone)
    statuses = await _counts_by_status(
        session, clinic_id=clinic_id, since=since, before=before, practitioner_scope=practitioner_scope
    )
    by_status = {status: statuses.get(status, 0) for status in IntakeStatus}
    return IntakeReport(
        start=start,
        end=end,
        by_status=by_status,
        by_form=await _counts_by_form(
            session, clinic_id=clinic_id, since=since, before=before, practitioner_scope=practitioner_scope
        ),
        total=sum(statuses.values()),
    )
