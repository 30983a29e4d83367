"""The consultation PDF behind ``exam_url``: valid for 24 hours after the event, refused after, refused
when tampered with; it shows the brand, patient, exam, answers, attachments, provider and decision."""

from __future__ import annotations

import re
import zlib
from collections.abc import AsyncIterator
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import select, update

from clinicore.app import create_app
from clinicore.core.models import Clinic, Event, ExamOutcome
from clinicore.core.telehealth import lifecycle
from clinicore.core.telehealth.documents import ConsultationDocument, latin1, render_consultation_pdf
from tests.factories import answer_all, attach, create_live_provider, create_meeting
from tests.surfaces.qualiphy.conftest import NOW, QualiphyClinic


@pytest.fixture
async def site(qp: QualiphyClinic) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(qp.runtime))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


def pdf_text(pdf: bytes) -> bytes:
    """Every content stream of the PDF, inflated when compressed (no PDF library needed)."""
    chunks = []
    for stream in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", pdf, flags=re.S):
        try:
            chunks.append(zlib.decompress(stream))
        except zlib.error:
            chunks.append(stream)
    return b"\n".join(chunks)


async def decided_exam_url(qp: QualiphyClinic) -> tuple[str, int]:
    """A live Botox exam answered (with non-Latin-1 text), with an attachment, approved by a provider;
    returns the ``exam_url`` of its event 1."""
    runtime = qp.runtime
    async with runtime.sessions() as session, session.begin():
        await session.execute(
            update(Clinic)
            .where(Clinic.id == qp.arranged.clinic.id)
            .values(brand_name="Glow Aesthetics", brand_color="#AA3366")
        )
    created = await create_meeting(
        runtime, qp.arranged.clinic, [qp.catalog.botox], first_name="Zoë", last_name="Ørsted–Łukasz"
    )
    await answer_all(runtime, created.patient_exam, other_text="Asthma “mild” 喘息")
    await attach(runtime, created.patient_exam, label="ID", file_name="drivers-license.png")
    provider = await create_live_provider(runtime)
    async with runtime.sessions() as session, session.begin():
        await lifecycle.join_waiting_room(
            session,
            meeting_id=created.meeting.id,
            patient_exam_id=created.patient_exam.id,
            clock=runtime.clock,
        )
        await lifecycle.take_exam(
            session, provider_id=provider.id, patient_exam_id=created.patient_exam.id, clock=runtime.clock
        )
        await lifecycle.decide(
            session,
            provider_id=provider.id,
            patient_exam_id=created.patient_exam.id,
            outcome=ExamOutcome.approved,
            reason="Healthy — cleared for treatment.",
            links=runtime.links,
            clock=runtime.clock,
        )
    async with runtime.sessions() as session:
        event = await session.scalar(select(Event).where(Event.aggregate_id == str(created.meeting.id)))
    assert event is not None
    return str(event.payload["document"]["url"]), created.patient_exam.id


class TestTheSignedLink:
    async def test_a_valid_link_serves_the_pdf(self, qp: QualiphyClinic, site: httpx.AsyncClient) -> None:
        url, patient_exam_id = await decided_exam_url(qp)

        response = await site.get(url)

        assert response.status_code == 200
        assert response.headers["content-type"] == "application/pdf"
        assert response.headers["cache-control"] == "private, no-store"
        assert response.content.startswith(b"%PDF")
        text = pdf_text(response.content)
        for expected in (
            b"GFE - Botox",
            b"Glow Aesthetics",
            b"Liza Park, NP",
            b"Approved",
            b"Are you currently pregnant or breastfeeding?",
            b"drivers-license.png",
            f"patient exam {patient_exam_id}".encode(),
            # 15:00 UTC is 10:00 in New York (EST in March 2031, before the DST change on the 9th).
            b"March 3, 2031 10:00 AM EST",
            b"America/New_York",
            "Zoë".encode("latin-1"),
            b"Healthy - cleared for treatment.",
            b'Other: Asthma "mild" ??',
        ):
            assert expected in text, expected

    async def test_the_link_expires_24_hours_after_the_event(
        self, qp: QualiphyClinic, site: httpx.AsyncClient
    ) -> None:
        url, _ = await decided_exam_url(qp)
        assert int(parse_qs(urlsplit(url).query)["expires"][0]) == int(
            (NOW + timedelta(hours=24)).timestamp()
        )

        qp.clock.advance(timedelta(hours=24) - timedelta(seconds=1))
        assert (await site.get(url)).status_code == 200
        qp.clock.advance(timedelta(seconds=1))
        expired = await site.get(url)

        assert expired.status_code == 403
        assert expired.text == "this link has expired: ask for a new one"
        assert expired.headers["cache-control"] == "private, no-store"

    @pytest.mark.parametrize(
        "tamper",
        [
            lambda url: url[:-1] + ("0" if url[-1] != "0" else "1"),  # the signature
            lambda url: re.sub(r"expires=(\d+)", lambda match: f"expires={int(match[1]) + 86400}", url),
            lambda url: re.sub(r"/(\d+)\.pdf", lambda match: f"/{int(match[1]) + 1}.pdf", url),
            lambda url: url.split("?")[0],  # no signature at all
            lambda url: url.replace("signature=", "signature=%C3%A9"),  # not even ASCII
        ],
        ids=["signature", "expiry", "exam", "missing", "non-ascii"],
    )
    async def test_a_tampered_link_is_not_found(
        self, qp: QualiphyClinic, site: httpx.AsyncClient, tamper: object
    ) -> None:
        url, _ = await decided_exam_url(qp)
        response = await site.get(tamper(url))  # type: ignore[operator]
        assert response.status_code == 404
        assert response.text == "document not found"
        assert b"%PDF" not in response.content


class TestRendering:
    def test_text_outside_latin_1_is_transliterated_or_replaced(self) -> None:
        assert latin1("“Quote” – café … 漢字 Łódź") == '"Quote" - café ... ?? ?ódz'

    def test_an_undecided_exam_without_questions_still_renders(self) -> None:
        pdf = render_consultation_pdf(
            ConsultationDocument(
                clinic_name="Clinic",
                brand_color="not-a-colour",
                patient_name="Jane Doe",
                date_of_birth=None,
                exam_title="Urgent Care - UTI",
                questions=[],
                attachments=[],
                provider_name=None,
                outcome=None,
                reason=None,
                decided_at=None,
                time_zone="Not/AZone",
                patient_exam_id=1,
            ),
            compress=False,
        )
        assert pdf.startswith(b"%PDF")
        assert b"Urgent Care - UTI" in pdf
        assert b"Not decided" in pdf
