"""Who may join the video call of a patient exam, and when.

One call (one signalling room) per patient exam. It is open only while the exam is ``in_consultation``:
before a provider takes it there is nobody to talk to, and once decided the consultation is over.
- The patient joins with the meeting's signed link (checked by the page); the exam must be one of the
  meeting's and in consultation.
- A provider joins with their desk account: they must be allowed to open the exam (``desk``'s rule:
  licensed in its state, same mode, not another provider's) and be its provider. A medical director who
  takes a deferred exam becomes its provider, so the same rule covers them.
Each provider joining is written to the audit log, as every view of a patient's record is. Nothing here
commits; nothing here knows about sockets.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from clinicore.core.audit import service as audit_service
from clinicore.core.models import PatientExam, PatientExamStatus
from clinicore.core.telehealth import repository
from clinicore.core.telehealth.desk import check_provider_may_open, provider_actor
from clinicore.core.telehealth.visit import Visit
from clinicore.kit.clock import Clock, system_clock
from clinicore.kit.errors import Conflict, Forbidden, NotFound


class CallRole(StrEnum):
    patient = "patient"
    provider = "provider"


@dataclass(frozen=True, slots=True)
class CallSeat:
    """Someone allowed into the call of one patient exam, or of an appointment's video room
    (``appointment_room_id``, ``core/scheduling/video_rooms.py``; ``patient_exam_id`` is then 0)."""

    patient_exam_id: int
    clinic_id: uuid.UUID
    role: CallRole
    appointment_room_id: uuid.UUID | None = None

    @property
    def room(self) -> str:
        """The signalling room's name: the exam's id, or ``appointment:<room id>``."""
        if self.appointment_room_id is not None:
            return f"appointment:{self.appointment_room_id}"
        return str(self.patient_exam_id)


# Patient exam ids are 32-bit integers in the database: a larger number names no exam (and PostgreSQL
# would refuse to compare it).
LARGEST_EXAM_ID = 2**31 - 1


def _no_such_exam(patient_exam_id: int) -> NotFound:
    return NotFound(f"patient_exam_id: no patient exam {patient_exam_id}", field="patient_exam_id")


def call_is_open(patient_exam: PatientExam) -> bool:
    return patient_exam.status == PatientExamStatus.in_consultation


def patient_call_exam(visit: Visit) -> PatientExam | None:
    """The exam of the visit whose call the patient joins now: the first one a provider is consulting."""
    return next((item.patient_exam for item in visit.active_exams if call_is_open(item.patient_exam)), None)


def _call_closed(patient_exam_id: int) -> Conflict:
    return Conflict(
        f"patient exam {patient_exam_id}: the video call is open only while a provider consults it",
        field="patient_exam_id",
        rule="telehealth.call_closed",
    )


def join_as_patient(*, visit: Visit, patient_exam_id: int) -> CallSeat:
    """The patient of ``visit`` (whose link was checked) joins the call of one of its exams."""
    patient_exam = next(
        (item.patient_exam for item in visit.exams if item.patient_exam.id == patient_exam_id), None
    )
    if patient_exam is None:
        raise _no_such_exam(patient_exam_id)
    if not call_is_open(patient_exam):
        raise _call_closed(patient_exam_id)
    return CallSeat(patient_exam.id, patient_exam.clinic_id, CallRole.patient)


async def join_as_provider(
    session: AsyncSession, *, provider_id: uuid.UUID, patient_exam_id: int, clock: Clock = system_clock
) -> CallSeat:
    """A provider joins the call of the exam they consult. Audited."""
    provider = await repository.get_provider(session, provider_id)
    if provider is None or not provider.is_active:
        raise NotFound("provider not found", field="provider_id")
    record = (
        await repository.load_exam(session, patient_exam_id=patient_exam_id)
        if 0 < patient_exam_id <= LARGEST_EXAM_ID
        else None
    )
    if record is None:
        raise _no_such_exam(patient_exam_id)
    await check_provider_may_open(session, record, provider=provider, clock=clock)
    patient_exam = record.patient_exam
    if patient_exam.provider_id != provider.id:
        raise Forbidden(
            f"patient exam {patient_exam.id}: only the provider consulting it joins its call",
            field="patient_exam_id",
        )
    if not call_is_open(patient_exam):
        raise _call_closed(patient_exam.id)
    await audit_service.record(
        session,
        clinic_id=patient_exam.clinic_id,
        actor=provider_actor(provider.id),
        action="patient_exam.call_joined",
        target_type="patient_exam",
        target_id=str(patient_exam.id),
        clock=clock,
    )
    return CallSeat(patient_exam.id, patient_exam.clinic_id, CallRole.provider)


async def call_still_open(session: AsyncSession, *, patient_exam_id: int) -> bool:
    """Whether the call of a patient exam may go on (checked now and then while people are in it)."""
    if not 0 < patient_exam_id <= LARGEST_EXAM_ID:
        return False
    patient_exam = await repository.get_patient_exam(session, patient_exam_id=patient_exam_id)
    return patient_exam is not None and call_is_open(patient_exam)
