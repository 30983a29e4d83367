"""The console's exams through HTTP: the list with its filters and pages, one exam (patient, answers,
timeline, webhook attempts), Cancel and Resend with the API's rules, and the invite notification switch
honoured by a live invite made through the Qualiphy API."""

from __future__ import annotations

import re
import secrets
from collections.abc import AsyncIterator

import httpx
import pytest

from clinicore.app import create_app
from clinicore.core.models import ExamOutcome, Provider
from clinicore.core.telehealth import lifecycle
from clinicore.runtime import Runtime
from clinicore.web.console import exams as exams_pages
from tests.core.events.receiver import running_receiver
from tests.core.telehealth.prescribed import prescribed_exam
from tests.factories import answer_all, create_live_provider, create_meeting, run_webhook_jobs
from tests.surfaces.qualiphy.conftest import QualiphyClinic, open_qualiphy_clinic
from tests.surfaces.qualiphy.test_exam_invite import invite, invite_body, te_invite_body
from tests.surfaces.qualiphy.test_invite_notifications import a_patient, emails_to, sms_to
from tests.web.console.pages import csrf_token, page_csrf, sign_in
from tests.web.console.statements import reading, statements_run


@pytest.fixture
async def qp(runtime: Runtime) -> AsyncIterator[QualiphyClinic]:
    """A clinic with a Qualiphy key and a catalog, its API seen through a frozen clock."""
    async for opened in open_qualiphy_clinic(runtime):
        yield opened


@pytest.fixture
async def other_qp(runtime: Runtime) -> AsyncIterator[QualiphyClinic]:
    async for opened in open_qualiphy_clinic(runtime):
        yield opened


@pytest.fixture
async def console(qp: QualiphyClinic) -> AsyncIterator[httpx.AsyncClient]:
    """The clinic's admin signed in to the console of the app the Qualiphy client calls (same clock)."""
    address = f"127.{secrets.randbelow(250) + 1}.{secrets.randbelow(250) + 1}.{secrets.randbelow(250) + 1}"
    transport = httpx.ASGITransport(app=create_app(qp.runtime), client=(address, 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        signed_in = await sign_in(client, qp.arranged.email, qp.arranged.password)
        assert signed_in.status_code == 303
        yield client


def listed_exams(html: str) -> list[int]:
    return [int(found) for found in re.findall(r'data-patient-exam-id="(\d+)"', html)]


def timeline(html: str) -> list[tuple[str, str]]:
    """(to status, actor type) of each timeline row, in order."""
    return re.findall(r'data-to-status="([a-z_]+)" data-actor-type="([a-z_]+)"', html)


async def invited_exam(qp: QualiphyClinic, body: dict[str, object] | None = None) -> int:
    result = await invite(qp, body or invite_body(qp.catalog.botox.id))
    exam_id: int = result["patient_exams"][0]["patient_exam_id"]
    return exam_id


async def decide(qp: QualiphyClinic, exam_id: int, outcome: ExamOutcome) -> Provider:
    """The patient answers and waits, a live NY provider takes the exam and decides ``outcome``."""
    async with qp.runtime.sessions() as session:
        record = await lifecycle.load(session, patient_exam_id=exam_id)
    await answer_all(qp.runtime, record.patient_exam)
    provider = await create_live_provider(qp.runtime, states=("NY",))
    async with qp.runtime.sessions() as session, session.begin():
        await lifecycle.join_waiting_room(
            session, meeting_id=record.meeting.id, patient_exam_id=exam_id, clock=qp.clock
        )
        await lifecycle.take_exam(session, provider_id=provider.id, patient_exam_id=exam_id, clock=qp.clock)
        await lifecycle.decide(
            session,
            provider_id=provider.id,
            patient_exam_id=exam_id,
            outcome=outcome,
            reason=None,
            links=qp.runtime.links,
            clock=qp.clock,
        )
    return provider


class TestList:
    async def test_an_invite_made_through_the_api_is_listed_with_its_patient(
        self, qp: QualiphyClinic, console: httpx.AsyncClient
    ) -> None:
        exam_id = await invited_exam(qp, invite_body(qp.catalog.botox.id, first_name="Maria"))
        page = await console.get("/console/exams")
        assert page.status_code == 200
        assert exam_id in listed_exams(page.text)
        assert "Maria Doe" in page.text and "GFE - Botox" in page.text

    async def test_filters_by_status_exam_mode_and_created_date(
        self, qp: QualiphyClinic, console: httpx.AsyncClient
    ) -> None:
        live = await invited_exam(qp, invite_body(qp.catalog.botox.id))
        test = await invited_exam(qp, te_invite_body(qp.catalog.filler.id))

        async def listed(**query: str) -> list[int]:
            page = await console.get("/console/exams", params=query)
            assert page.status_code == 200, page.text
            return listed_exams(page.text)

        assert set(await listed()) == {live, test}
        assert await listed(mode="live") == [live]
        assert await listed(mode="test") == [test]
        assert await listed(exam=str(qp.catalog.filler.id)) == [test]
        assert set(await listed(status="pending")) == {live, test}
        assert await listed(status="cancelled") == []
        created = qp.clock.now().date()  # 2031-03-03, 10:00 in New York
        assert set(await listed(created_from=created.isoformat(), created_until=created.isoformat())) == {
            live,
            test,
        }
        assert await listed(created_from="2031-03-04") == []
        assert await listed(created_until="2031-03-02") == []

    async def test_a_decided_exam_is_found_by_its_outcome(
        self, qp: QualiphyClinic, console: httpx.AsyncClient
    ) -> None:
        exam_id = await invited_exam(qp)
        provider = await decide(qp, exam_id, ExamOutcome.approved)
        approved = await console.get("/console/exams", params={"status": "approved"})
        assert listed_exams(approved.text) == [exam_id]
        assert listed_exams((await console.get("/console/exams?status=pending")).text) == []
        page = await console.get(f"/console/exams/{exam_id}")
        assert 'data-testid="exam-status">Approved<' in page.text
        assert [to for to, _ in timeline(page.text)] == [
            "pending",
            "waiting_for_provider",
            "in_consultation",
            "completed",
        ]
        assert ("in_consultation", "provider") in timeline(page.text)
        assert f"Provider {provider.name}" in page.text

    async def test_pages_hold_a_page_size_and_link_to_the_next(
        self, qp: QualiphyClinic, console: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(exams_pages, "PAGE_SIZE", 2)
        made = [await invited_exam(qp) for _ in range(3)]
        first = await console.get("/console/exams")
        assert len(listed_exams(first.text)) == 2 and 'rel="next"' in first.text
        second = await console.get("/console/exams?page=2")
        assert set(listed_exams(first.text) + listed_exams(second.text)) == set(made)
        assert 'rel="next"' not in second.text and 'rel="prev"' in second.text

    @pytest.mark.parametrize(
        ("query", "message"),
        [
            ("status=approvedd", "status: choose one of the listed statuses"),
            ("exam=abc", "exam: choose one of the listed exams"),
            ("exam=99999999999999999999", "exam: choose one of the listed exams"),
            ("mode=both", "mode: live or test"),
            ("created_from=2031-02-30", "created_from: enter a date as YYYY-MM-DD"),
            ("created_until=0001-01-01", "created_until: enter a date between"),
            ("created_from=2031-03-05&created_until=2031-03-01", "created: the range ends before it starts"),
            ("page=0", "page: a page number from 1 to 10000"),
            ("page=99999999999999999999", "page: a page number from 1 to 10000"),
            ("page=-1", "page: a page number from 1 to 10000"),
            ("page=%C2%B2", "page: a page number from 1 to 10000"),
            ("exam=%C2%B2", "exam: choose one of the listed exams"),
            ("status=%00", "status: choose one of the listed statuses"),
            ("status=" + "x" * 5000, "status: at most 40 characters"),
        ],
    )
    async def test_a_filter_that_does_not_read_is_a_400_with_the_reason(
        self, qp: QualiphyClinic, console: httpx.AsyncClient, query: str, message: str
    ) -> None:
        page = await console.get(f"/console/exams?{query}")
        assert page.status_code == 400
        assert message in page.text

    async def test_the_list_reads_its_rows_in_one_query_whatever_their_number(
        self, qp: QualiphyClinic, console: httpx.AsyncClient
    ) -> None:
        await invited_exam(qp)
        with statements_run(qp.runtime.engine) as one:
            assert (await console.get("/console/exams")).status_code == 200
        for _ in range(3):
            await invited_exam(qp)
        with statements_run(qp.runtime.engine) as four:
            assert (await console.get("/console/exams")).status_code == 200
        assert len(four) == len(one)
        assert len(reading("patient_exams", four)) == 1

    async def test_the_list_shows_only_this_clinics_exams(
        self, qp: QualiphyClinic, other_qp: QualiphyClinic, console: httpx.AsyncClient
    ) -> None:
        theirs = await invited_exam(other_qp)
        mine = await invited_exam(qp)
        listed = listed_exams((await console.get("/console/exams")).text)
        assert mine in listed and theirs not in listed


class TestOneExam:
    async def test_shows_the_patient_as_invited_the_answers_and_the_timeline(
        self, qp: QualiphyClinic, console: httpx.AsyncClient
    ) -> None:
        exam_id = await invited_exam(qp, invite_body(qp.catalog.botox.id, first_name="Rosa"))
        async with qp.runtime.sessions() as session:
            record = await lifecycle.load(session, patient_exam_id=exam_id)
        await answer_all(qp.runtime, record.patient_exam, other_text="Asthma")
        page = await console.get(f"/console/exams/{exam_id}")
        assert page.status_code == 200
        assert "Rosa Doe" in page.text and "jane.doe@patients.example.com" in page.text
        assert "Are you currently pregnant or breastfeeding?" in page.text and "Other: Asthma" in page.text
        assert timeline(page.text) == [("pending", "api_key")]
        assert "API key" in page.text

    async def test_a_prescribed_exam_shows_its_prescription_and_who_prescribed(
        self, qp: QualiphyClinic, console: httpx.AsyncClient
    ) -> None:
        prescribed = await prescribed_exam(qp.runtime, qp.arranged.clinic, qp.catalog, pharmacy=None)
        page = await console.get(f"/console/exams/{prescribed.patient_exam_id}")
        assert page.status_code == 200
        assert 'data-testid="exam-prescription"' in page.text and "Nitrofurantoin" in page.text
        assert timeline(page.text)[-1] == ("prescribed", "provider")
        assert 'data-testid="exam-status">prescribed<' in page.text
        assert "can no longer be cancelled or resent" in page.text

    async def test_another_clinics_exam_and_ids_that_do_not_read_are_not_found(
        self, qp: QualiphyClinic, other_qp: QualiphyClinic, console: httpx.AsyncClient
    ) -> None:
        theirs = await invited_exam(other_qp)
        for path in (theirs, "abc", "99999999999999999999", "-5", 0, "%C2%B2", "%00"):
            assert (await console.get(f"/console/exams/{path}")).status_code == 404, path
        token = await page_csrf(console, "/console/exams")
        cancelled = await console.post(f"/console/exams/{theirs}/cancel", data={"csrf_token": token})
        assert cancelled.status_code == 404

    async def test_webhook_attempts_of_the_invite_are_listed(
        self, qp: QualiphyClinic, console: httpx.AsyncClient
    ) -> None:
        async with running_receiver() as receiver:
            arranged = await create_meeting(
                qp.runtime, qp.arranged.clinic, [qp.catalog.botox], webhook_url=receiver.url()
            )
            await decide(qp, arranged.patient_exam.id, ExamOutcome.na)
            exam_id = arranged.patient_exam.id
            assert await run_webhook_jobs(qp.runtime, qp.arranged.clinic) >= 1
        page = await console.get(f"/console/exams/{exam_id}")
        rows = re.findall(r'data-attempt-outcome="([a-z_]+)" data-event-id="(evt_[^"]+)"', page.text)
        assert rows and rows[0][0] == "delivered"
        assert "patient_exam.completed" in page.text


class TestCancelAndResend:
    async def test_cancel_then_cancel_again_is_refused_with_the_cores_reason(
        self, qp: QualiphyClinic, console: httpx.AsyncClient
    ) -> None:
        exam_id = await invited_exam(qp)
        token = await page_csrf(console, f"/console/exams/{exam_id}")
        done = await console.post(f"/console/exams/{exam_id}/cancel", data={"csrf_token": token})
        assert done.status_code == 303
        assert done.headers["location"] == f"/console/exams/{exam_id}?notice=cancelled"
        page = await console.get(done.headers["location"])
        assert "Exam cancelled." in page.text and 'data-testid="exam-status">cancelled<' in page.text
        assert timeline(page.text)[-1] == ("cancelled", "user")
        assert "Admin (console)" in page.text
        again = await console.post(f"/console/exams/{exam_id}/cancel", data={"csrf_token": token})
        assert again.status_code == 400
        assert "Exam invite is already cancelled (status: cancelled)" in again.text
        # The same rule through the API.
        api = await qp.post("exam_invite_cancel", patient_exam_id=exam_id)
        assert api.status_code == 400 and "already cancelled" in api.text

    async def test_resend_sends_the_link_again_and_a_cancelled_exam_is_not_resent(
        self, qp: QualiphyClinic, console: httpx.AsyncClient
    ) -> None:
        email, phone = a_patient()
        exam_id = await invited_exam(qp, invite_body(qp.catalog.botox.id, email=email, phone_number=phone))
        token = await page_csrf(console, f"/console/exams/{exam_id}")
        resent = await console.post(f"/console/exams/{exam_id}/resend", data={"csrf_token": token})
        assert resent.status_code == 303
        assert "Invite sent again" in (await console.get(resent.headers["location"])).text
        assert len(await emails_to(qp.runtime, email)) == 2 and len(await sms_to(qp.runtime, phone)) == 2
        await console.post(f"/console/exams/{exam_id}/cancel", data={"csrf_token": token})
        refused = await console.post(f"/console/exams/{exam_id}/resend", data={"csrf_token": token})
        assert refused.status_code == 400
        assert "Exam invite cannot be resent: it was cancelled" in refused.text
        assert len(await emails_to(qp.runtime, email)) == 2

    async def test_without_the_csrf_token_nothing_changes(
        self, qp: QualiphyClinic, console: httpx.AsyncClient
    ) -> None:
        exam_id = await invited_exam(qp)
        for action in ("cancel", "resend"):
            refused = await console.post(f"/console/exams/{exam_id}/{action}", data={"csrf_token": "forged"})
            assert refused.status_code == 403
        page = await console.get(f"/console/exams/{exam_id}")
        assert 'data-testid="exam-status">pending<' in page.text

    async def test_signed_out_the_pages_ask_to_sign_in(self, client: httpx.AsyncClient) -> None:
        for path in ("/console/exams", "/console/exams/100001", "/console/notifications"):
            answer = await client.get(path)
            assert answer.status_code == 303 and answer.headers["location"].startswith("/login")


class TestInviteNotifications:
    async def test_turned_off_a_live_invite_through_the_api_sends_no_email_or_sms(
        self, qp: QualiphyClinic, console: httpx.AsyncClient
    ) -> None:
        form = await console.get("/console/notifications")
        assert 'data-testid="notifications-state">Now: <strong>on<' in form.text
        saved = await console.post(
            "/console/notifications", data={"notifications": "off", "csrf_token": csrf_token(form.text)}
        )
        assert saved.status_code == 303
        assert "are off" in (await console.get(saved.headers["location"])).text

        email, phone = a_patient()
        await invite(qp, invite_body(qp.catalog.botox.id, email=email, phone_number=phone))
        assert await emails_to(qp.runtime, email) == [] and await sms_to(qp.runtime, phone) == []

        await console.post(
            "/console/notifications", data={"notifications": "on", "csrf_token": csrf_token(form.text)}
        )
        email, phone = a_patient()
        await invite(qp, invite_body(qp.catalog.botox.id, email=email, phone_number=phone))
        assert len(await emails_to(qp.runtime, email)) == 1 and len(await sms_to(qp.runtime, phone)) == 1

    async def test_a_value_other_than_on_or_off_is_refused(
        self, qp: QualiphyClinic, console: httpx.AsyncClient
    ) -> None:
        token = await page_csrf(console, "/console/notifications")
        refused = await console.post(
            "/console/notifications", data={"notifications": "x", "csrf_token": token}
        )
        assert refused.status_code == 400 and "notifications: on or off" in refused.text
        forged = await console.post("/console/notifications", data={"notifications": "off"})
        assert forged.status_code == 403
        assert "Now: <strong>on<" in (await console.get("/console/notifications")).text
