"""The console's patients through HTTP: the list with search and pages, one patient with their exams,
and another clinic's patient answering as a missing one."""

from __future__ import annotations

import re

import httpx
import pytest

from clinicore.runtime import Runtime
from clinicore.web.console import exams as exams_pages
from tests.factories import create_catalog, create_clinic, create_meeting
from tests.web.console.pages import sign_in


def listed_patients(html: str) -> list[str]:
    return re.findall(r'data-client-id="([0-9a-f-]{36})"', html)


class TestPatients:
    async def test_search_by_name_email_or_phone_finds_the_patient(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        arranged = await create_clinic(runtime)
        catalog = await create_catalog(runtime, arranged.clinic)
        rosa = await create_meeting(
            runtime,
            arranged.clinic,
            [catalog.botox],
            first_name="Rosa",
            last_name="Parks",
            email="rosa.parks@example.com",
            phone="+12125550123",
        )
        other = await create_meeting(
            runtime, arranged.clinic, [catalog.filler], first_name="Ada", last_name="Byron"
        )
        await sign_in(client, arranged.email, arranged.password)

        async def found(q: str) -> list[str]:
            page = await client.get("/console/patients", params={"q": q})
            assert page.status_code == 200, page.text
            return listed_patients(page.text)

        assert set(await found("")) == {str(rosa.client.id), str(other.client.id)}
        assert await found("rosa") == [str(rosa.client.id)]
        assert await found("Rosa PARKS") == [str(rosa.client.id)]
        assert await found("parks@example") == [str(rosa.client.id)]
        assert await found("555-0123") == [str(rosa.client.id)]
        assert await found("rosa byron") == []
        assert await found("100%_") == []  # LIKE wildcards are matched as typed

    async def test_a_patient_page_lists_their_exams(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        arranged = await create_clinic(runtime)
        catalog = await create_catalog(runtime, arranged.clinic)
        meeting = await create_meeting(
            runtime, arranged.clinic, [catalog.botox, catalog.filler], first_name="Lia"
        )
        await sign_in(client, arranged.email, arranged.password)
        listed = await client.get("/console/patients")
        assert re.search(rf'data-client-id="{meeting.client.id}">.*?<td>2</td>', listed.text, re.S)
        page = await client.get(f"/console/patients/{meeting.client.id}")
        assert page.status_code == 200
        shown = [int(found) for found in re.findall(r'data-patient-exam-id="(\d+)"', page.text)]
        assert sorted(shown) == sorted(exam.id for exam in meeting.patient_exams)
        assert "GFE - Dermal Filler" in page.text and "Lia" in page.text

    async def test_pages_of_patients(
        self, client: httpx.AsyncClient, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(exams_pages, "PAGE_SIZE", 2)
        arranged = await create_clinic(runtime)
        catalog = await create_catalog(runtime, arranged.clinic)
        made = [
            (await create_meeting(runtime, arranged.clinic, [catalog.botox], last_name=name)).client.id
            for name in ("Adams", "Baker", "Clark")
        ]
        await sign_in(client, arranged.email, arranged.password)
        first = await client.get("/console/patients")
        assert listed_patients(first.text) == [str(made[0]), str(made[1])] and 'rel="next"' in first.text
        second = await client.get("/console/patients?page=2")
        assert listed_patients(second.text) == [str(made[2])] and 'rel="next"' not in second.text

    async def test_another_clinics_patient_is_not_found(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        theirs = await create_clinic(runtime)
        their_catalog = await create_catalog(runtime, theirs.clinic)
        their_patient = await create_meeting(runtime, theirs.clinic, [their_catalog.botox])
        mine = await create_clinic(runtime)
        await sign_in(client, mine.email, mine.password)
        assert (await client.get(f"/console/patients/{their_patient.client.id}")).status_code == 404
        assert str(their_patient.client.id) not in (await client.get("/console/patients")).text
        for bad in ("not-a-uuid", "x" * 500):
            assert (await client.get(f"/console/patients/{bad}")).status_code == 404

    @pytest.mark.parametrize(
        ("query", "message"),
        [
            ("page=abc", "page: a page number from 1 to 10000"),
            ("page=99999999999999999999999", "page: a page number from 1 to 10000"),
            ("q=" + "a" * 101, "q: at most 100 characters"),
            ("q=a+b+c+d+e+f", "q: at most 5 words"),
            ("q=ro%00sa", "q: contains a control character"),
            ("page=%C2%B2", "page: a page number from 1 to 10000"),
        ],
    )
    async def test_a_search_that_does_not_read_is_a_400(
        self, client: httpx.AsyncClient, runtime: Runtime, query: str, message: str
    ) -> None:
        arranged = await create_clinic(runtime)
        await sign_in(client, arranged.email, arranged.password)
        page = await client.get(f"/console/patients?{query}")
        assert page.status_code == 400 and message in page.text
