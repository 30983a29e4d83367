"""Qualiphy catalog and invite routes: parse the wire body, call one core service, map the result."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Request

from clinicore.core.audit.service import Actor
from clinicore.core.telehealth import catalog, invites
from clinicore.requests import RuntimeDep, SessionDep, reads_only
from clinicore.surfaces.qualiphy import mappers, wire
from clinicore.surfaces.qualiphy.auth import Caller, request_fields
from clinicore.surfaces.qualiphy.parsing import parse
from clinicore.surfaces.qualiphy.routing import endpoint

router = APIRouter()


@endpoint(router, "exam_list", response_model=wire.ExamList, summary="The clinic's exams")
@reads_only
async def exam_list(caller: Caller, session: SessionDep) -> wire.ExamList:
    rows = await catalog.list_exams(session, clinic_id=caller.clinic.id)
    return mappers.exam_list(caller.clinic, list(rows))


@endpoint(
    router,
    "exam_invite",
    response_model=wire.ExamInviteResponse,
    summary="Invite a patient to one or more exams; returns the meeting link",
)
async def exam_invite(
    request: Request, caller: Caller, session: SessionDep, runtime: RuntimeDep
) -> wire.ExamInviteResponse:
    body = parse(wire.ExamInvite, await request_fields(request))
    result = await invites.invite_patient(
        session,
        clinic=caller.clinic,
        request=mappers.invite_request(body),
        box=runtime.box,
        links=runtime.links,
        allow_private_webhooks=runtime.settings.private_webhooks_allowed,
        test_provider_delay=timedelta(seconds=runtime.settings.test_provider_delay_seconds),
        by=Actor.api_key(caller.key.id),
        clock=runtime.clock,
        link_lifetime=runtime.settings.meeting_link_lifetime,
    )
    return mappers.invite_response(result)


@endpoint(
    router,
    "exam_invite_resend",
    response_model=wire.PatientExamMessage,
    summary="Send the invite email and SMS again",
)
async def exam_invite_resend(
    request: Request, caller: Caller, session: SessionDep, runtime: RuntimeDep
) -> wire.PatientExamMessage:
    body = parse(wire.PatientExamRequest, await request_fields(request))
    change = await invites.resend_invite(
        session,
        clinic=caller.clinic,
        patient_exam_id=body.patient_exam_id,
        links=runtime.links,
        clock=runtime.clock,
        link_lifetime=runtime.settings.meeting_link_lifetime,
    )
    return mappers.patient_exam_message(change, "Exam invite resent")


@endpoint(
    router,
    "exam_invite_cancel",
    response_model=wire.PatientExamMessage,
    summary="Cancel a patient exam before a provider acts on it",
)
async def exam_invite_cancel(
    request: Request, caller: Caller, session: SessionDep, runtime: RuntimeDep
) -> wire.PatientExamMessage:
    body = parse(wire.PatientExamRequest, await request_fields(request))
    change = await invites.cancel_invite(
        session,
        clinic_id=caller.clinic.id,
        patient_exam_id=body.patient_exam_id,
        by=Actor.api_key(caller.key.id),
        clock=runtime.clock,
    )
    return mappers.patient_exam_message(change, "Exam invite cancelled")
