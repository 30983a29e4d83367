"""Console pages of the practice's intakes (clients' filled forms) and the intake report.

``/console/intakes`` lists them newest first (client, days made, one status or all; 100 a page),
``/console/intakes/{id}`` shows one (client, form, status, dates, answers, consent signatures, its PDF and
its link), ``/console/reports`` counts them by status and by form over a range of days. The intakes pages
need the role's "open forms", the report "see reports" (core/staff/sign_in.py). Every filter is bounded:
a value that does not read shows the page again with a 400 and the reason, never a 500.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from clinicore.core.forms import intake_document, intakes
from clinicore.core.forms.intake_reports import IntakeReport, intake_report
from clinicore.core.models import FormQuestionKind, IntakeStatus
from clinicore.core.staff import service as staff_service
from clinicore.core.tenancy.permissions import Permission
from clinicore.core.tenancy.schemas import SignedInUser
from clinicore.kit.errors import InvalidInput, NotFound
from clinicore.requests import RuntimeDep, SessionDep
from clinicore.web.console.clinic_time import ClinicTime, parse_date
from clinicore.web.console.filters import page_number, refuse_long_filters
from clinicore.web.console.routes import render
from clinicore.web.console.session import require

router = APIRouter(include_in_schema=False)

FormsReader = Annotated[SignedInUser, require(Permission.open_forms)]
ReportsReader = Annotated[SignedInUser, require(Permission.see_reports)]

FILTER_LENGTH = 200
REPORT_DAYS = 30  # the report's range when none is asked
STATUS_LABELS = {
    IntakeStatus.created: "Created",
    IntakeStatus.sent: "Sent",
    IntakeStatus.in_progress: "In progress",
    IntakeStatus.submitted: "Submitted",
}
SHOWN = {"all": "All forms"} | {status.value: f"{label} only" for status, label in STATUS_LABELS.items()}


async def _scope(session: AsyncSession, user: SignedInUser) -> frozenset[uuid.UUID] | None:
    """Whose intakes the user may see (an assistant limited to some practitioners; None: everyone's)."""
    return await staff_service.practitioner_scope(
        session, clinic_id=user.clinic.id, assistant_id=user.user.assistant_id
    )


@router.get("/console/intakes")
async def intakes_page(
    request: Request,
    user: FormsReader,
    session: SessionDep,
    client: str = "",
    start: str = "",
    end: str = "",
    shown: str = "",
    page: str = "",
) -> Response:
    filters = {"client": client, "start": start, "end": end, "shown": shown}
    rows: list[intakes.IntakeSummary] = []
    number, has_more, error = 1, False, None
    try:
        refuse_long_filters(filters, longest=FILTER_LENGTH)
        number = page_number(page[:FILTER_LENGTH])
        if shown and shown not in SHOWN:
            raise InvalidInput(f"shown: one of {', '.join(SHOWN)}", field="shown")
        listed = await intakes.list_intakes(
            session,
            clinic_id=user.clinic.id,
            client=client or None,
            start=parse_date(start, field="start") if start else None,
            end=parse_date(end, field="end") if end else None,
            page=number,
            include_unsubmitted=True,
            status=IntakeStatus(shown) if shown and shown != "all" else None,
            practitioner_scope=await _scope(session, user),
        )
        rows, has_more = list(listed), len(listed) >= intakes.PAGE_SIZE
    except InvalidInput as exc:
        error = exc.message
    active = {name: value for name, value in filters.items() if value and len(value) <= FILTER_LENGTH}
    return render(
        request,
        "intakes.html",
        status_code=400 if error else 200,
        user=user,
        nav="intakes",
        local=ClinicTime(user.clinic.time_zone),
        rows=rows,
        statuses=STATUS_LABELS,
        shown_choices=SHOWN,
        filters={name: value[:FILTER_LENGTH] for name, value in filters.items()},
        client_name=intakes.client_display_name,
        page=number,
        error=error,
        previous_url=f"?{urlencode(active | {'page': number - 1})}" if number > 1 else None,
        next_url=f"?{urlencode(active | {'page': number + 1})}" if has_more else None,
    )


@router.get("/console/intakes/{intake_id}")
async def intake_page(
    request: Request, intake_id: str, user: FormsReader, session: SessionDep, runtime: RuntimeDep
) -> Response:
    view = await intakes.intake_view(
        session,
        clinic_id=user.clinic.id,
        intake_id=intake_id[:FILTER_LENGTH],
        secret_box=runtime.box,
        base_url=runtime.settings.base_url,
        practitioner_scope=await _scope(session, user),
    )
    files = {str(file.id): file for file in view.form.files}
    return render(
        request,
        "intake_detail.html",
        user=user,
        nav="intakes",
        local=ClinicTime(user.clinic.time_zone),
        view=view,
        form=view.form,
        statuses=STATUS_LABELS,
        client_name=intakes.client_display_name(view.client),
        answer_text=lambda question, value: intake_document.answer_text(question, value, files),
        file_kinds={FormQuestionKind.file_upload.value, FormQuestionKind.signature.value},
        files=files,
    )


@router.get("/console/intakes/{intake_id}/pdf")
async def intake_pdf(intake_id: str, user: FormsReader, session: SessionDep, runtime: RuntimeDep) -> Response:
    document = await intake_document.render_pdf(
        session,
        runtime.storage,
        clinic_id=user.clinic.id,
        intake_id=intake_id[:FILTER_LENGTH],
        practitioner_scope=await _scope(session, user),
    )
    return Response(
        document,
        media_type="application/pdf",
        headers={"Cache-Control": "no-store", "Content-Disposition": 'inline; filename="intake.pdf"'},
    )


@router.get("/console/intakes/{intake_id}/files/{file_id}")
async def intake_file(
    intake_id: str, file_id: str, user: FormsReader, session: SessionDep, runtime: RuntimeDep
) -> Response:
    summary = await intakes.intake_summary(
        session,
        clinic_id=user.clinic.id,
        intake_id=intake_id[:FILTER_LENGTH],
        practitioner_scope=await _scope(session, user),
    )
    found = intakes.parse_intake_id(file_id[:FILTER_LENGTH])  # a file id is a UUID too
    if found is None:
        raise NotFound("file not found")
    view, data = await intakes.read_file(session, runtime.storage, intake_id=summary.intake.id, file_id=found)
    return Response(
        data,
        media_type=view.content_type,
        headers={
            "Cache-Control": "no-store",
            "Content-Disposition": "attachment",
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.get("/console/reports")
async def reports_page(
    request: Request,
    user: ReportsReader,
    session: SessionDep,
    runtime: RuntimeDep,
    start: str = "",
    end: str = "",
) -> Response:
    local = ClinicTime(user.clinic.time_zone)
    today = local.today(runtime.clock.now())
    filters = {"start": start[:FILTER_LENGTH], "end": end[:FILTER_LENGTH]}
    report: IntakeReport | None = None
    error = None
    try:
        first = parse_date(start, field="start") if start else today - timedelta(days=REPORT_DAYS - 1)
        last = parse_date(end, field="end") if end else today
        report = await intake_report(
            session,
            clinic_id=user.clinic.id,
            start=first,
            end=last,
            practitioner_scope=await _scope(session, user),
        )
    except InvalidInput as exc:
        error = exc.message
    return render(
        request,
        "reports.html",
        status_code=400 if error else 200,
        user=user,
        nav="reports",
        report=report,
        statuses=STATUS_LABELS,
        filters=filters,
        error=error,
    )
