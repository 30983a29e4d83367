"""Qualiphy routes for screening questions, submitted answers and attachments: parse the wire model,
call one core service, map the result."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.datastructures import UploadFile

from clinicore.core.telehealth import answers as answers_service
from clinicore.core.telehealth import attachments as attachments_service
from clinicore.kit.errors import InvalidInput
from clinicore.requests import RuntimeDep, SessionDep, bound_upload_body, reads_only
from clinicore.surfaces.qualiphy import answers_wire as wire
from clinicore.surfaces.qualiphy.auth import Caller, request_fields
from clinicore.surfaces.qualiphy.parsing import parse
from clinicore.surfaces.qualiphy.routing import endpoint

router = APIRouter()

ATTACHMENT_ENDPOINT = "exam_attachment_upload"
FILE_FIELDS = ("file", "attachment")  # the file part's name; the second is accepted too
# Room for the form fields and multipart framing around a file of the largest accepted size.


@endpoint(router, "exam_questions", summary="The screening questions of an exam (or of a patient exam)")
@reads_only
async def exam_questions(
    request: Request, caller: Caller, session: SessionDep
) -> wire.ExamQuestions | wire.PatientExamQuestions:
    body = parse(wire.ExamQuestionsRequest, await request_fields(request))
    result = await answers_service.exam_questionnaire(
        session,
        clinic_id=caller.clinic.id,
        exam_id=body.exam_id,
        patient_exam_id=body.patient_exam_id,
        meeting_uuid=body.meeting_uuid,
    )
    return wire.exam_questions(result)


@endpoint(router, "exam_submit_answers", summary="Pre-fill a patient exam's screening answers")
async def exam_submit_answers(
    request: Request, caller: Caller, session: SessionDep, runtime: RuntimeDep
) -> wire.AnswersSaved:
    fields = await request_fields(request)
    if not fields.get("meeting_uuid"):
        # Qualiphy answers this before anything else, whatever else is missing.
        raise answers_service.unknown_meeting()
    body = parse(wire.SubmitAnswersRequest, fields)
    result = await answers_service.submit_answers(
        session,
        clinic_id=caller.clinic.id,
        meeting_uuid=body.meeting_uuid,
        patient_exam_id=body.patient_exam_id,
        answers=[item.to_core() for item in body.answers],
        clock=runtime.clock,
    )
    return wire.answers_saved(result)


async def bounded_upload_body(request: Request, runtime: RuntimeDep) -> None:
    """The upload limit, applied before authentication reads the form."""
    bound_upload_body(request, max_upload_bytes=runtime.settings.max_upload_bytes)


BoundedUpload = Annotated[None, Depends(bounded_upload_body)]
# The form is read by hand (authentication reads it first), so its shape is declared for OpenAPI here.
UPLOAD_REQUEST_BODY = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["api_key", "patient_exam_id", "file"],
                "properties": {
                    "api_key": {"type": "string"},
                    "patient_exam_id": {"type": "integer"},
                    "label": {
                        "type": "string",
                        "description": '"ID" (the default) or one of the exam\'s attachments',
                    },
                    "file": {"type": "string", "format": "binary", "description": "JPEG, PNG, HEIC or PDF"},
                },
            }
        }
    },
}


@endpoint(
    router,
    ATTACHMENT_ENDPOINT,
    summary="Attach a document (ID, or one of the exam's attachments) to a patient exam",
    description=(
        'multipart/form-data: `api_key`, `patient_exam_id`, `label` ("ID" when absent, or one of the '
        "exam's `attachments`) and the file in the `file` part (JPEG, PNG, HEIC or PDF, at most 10 MB)."
    ),
    openapi_extra={"requestBody": UPLOAD_REQUEST_BODY},
)
async def exam_attachment_upload(
    _bounded: BoundedUpload, request: Request, caller: Caller, session: SessionDep, runtime: RuntimeDep
) -> wire.AttachmentUploaded:
    fields = await request_fields(request)
    body = parse(wire.AttachmentRequest, fields)
    upload = await _uploaded_file(request)
    try:
        data = await attachments_service.read_limited(
            upload.read, max_bytes=runtime.settings.max_upload_bytes
        )
    finally:
        await upload.close()
    result = await attachments_service.upload_attachment(
        session,
        clinic_id=caller.clinic.id,
        patient_exam_id=body.patient_exam_id,
        label=body.label if body.label is not None else body.attachment_name,
        data=data,
        original_name=upload.filename,
        storage=runtime.storage,
        max_bytes=runtime.settings.max_upload_bytes,
        clock=runtime.clock,
    )
    return wire.attachment_uploaded(result)


async def _uploaded_file(request: Request) -> UploadFile:
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        form = await request.form()  # already parsed (and cached) by authentication
        for name in FILE_FIELDS:
            value = form.get(name)
            if isinstance(value, UploadFile):
                return value
    raise InvalidInput("file is required (a multipart/form-data part named `file`)", field="file")
