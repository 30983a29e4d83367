"""``clinicore demo`` seeds the telehealth demo: exams with screening questions, two partner
pharmacies with order sets for every Rx exam, a fictional retail directory and the providers; a
second run adds nothing twice. Checked through the Qualiphy API with the key the demo prints."""

from __future__ import annotations

import csv
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from clinicore.app import create_app
from clinicore.cli.demo_telehealth import (
    DEMO_DIRECTORY,
    DEMO_PARTNER_PHARMACIES,
    LIVE_PROVIDER_EMAIL,
    MEDICAL_DIRECTOR_EMAIL,
    PHARMACY_USER_EMAIL,
)
from clinicore.config import load_settings
from clinicore.core.accounts import service as accounts_service
from clinicore.core.accounts.service import SignInThrottle
from clinicore.core.models import (
    DeskAccountKind,
    Exam,
    PartnerPharmacy,
    PharmacyUser,
    Provider,
    QuestionType,
    RxType,
)
from clinicore.core.staff import roles as staff_roles
from clinicore.core.telehealth import catalog, provider_admin, providers
from clinicore.core.telehealth.states import SERVED_STATES
from clinicore.core.tenancy import service as tenancy_service
from clinicore.kit.rate_limit import RateLimiter
from clinicore.runtime import Runtime
from tests.conftest import POSTGRES_URL
from tests.support import clinicore_env, remember_secret, run_clinicore

SECRET_FIELDS = (
    "console_password",
    "qualiphy_api_key",
    "qualifybase_api_key",
    "intakeq_practice_key",
    "intakeq_partner_key",
    "native_api_key",
    "provider_password",
    "pharmacy_password",
)


def run_demo(env: dict[str, str]) -> dict[str, str]:
    result = run_clinicore("demo", "--json", env=env)
    assert result.returncode == 0
    demo: dict[str, str] = json.loads(result.stdout)
    for field in SECRET_FIELDS:
        remember_secret(demo[field])
    return demo


@dataclass
class DemoSite:
    runtime: Runtime
    client: httpx.AsyncClient
    clinic_id: uuid.UUID
    api_key: str

    async def post(self, name: str, **body: Any) -> Any:
        response = await self.client.post(f"/{name}", json={"api_key": self.api_key, **body})
        assert response.status_code == 200, response.text
        return response.json()

    async def exams(self) -> list[Exam]:
        async with self.runtime.sessions() as session:
            return list(await catalog.list_exams(session, clinic_id=self.clinic_id))

    async def snapshot(self) -> dict[str, Any]:
        """What a client can see of the demo, to compare one run with the next."""
        exams = await self.exams()
        rx_ids = [exam.id for exam in exams if exam.rx_type == RxType.rx]
        pharmacies = await self.post("partner_pharmacy_list", exam_ids=rx_ids, patient_state="NY")
        packages = await self.post(
            "partner_pharmacy_treatment_packages",
            pharmacy_ids=[pharmacy["pharmacy_id"] for pharmacy in pharmacies],
            exam_ids=rx_ids,
            patient_state="NY",
        )
        async with self.runtime.sessions() as session:
            question_counts = [len(await catalog.questions(session, exam_id=exam.id)) for exam in exams]
            provider_rows = (await session.scalars(select(Provider).order_by(Provider.name))).all()
        return {
            "exams": [(exam.id, exam.title) for exam in exams],
            "questions": question_counts,
            "pharmacies": pharmacies,
            "packages": packages,
            "directory": await self.post("custom_pharmacy_search", zip_code="10001"),
            "providers": [(provider.name, provider.is_test) for provider in provider_rows],
        }


@dataclass
class Seeded:
    env: dict[str, str]
    data_dir: Path
    database_url: str
    demo: dict[str, str]


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory, database_url: str) -> Seeded:
    """The demo run twice (once per module: each run takes seconds); tests see the second run."""
    data_dir = tmp_path_factory.mktemp("demo") / "data"
    subprocess_url = database_url if POSTGRES_URL else None
    env = clinicore_env(data_dir, subprocess_url)
    run_demo(env)
    return Seeded(
        env=env,
        data_dir=data_dir,
        database_url=subprocess_url or f"sqlite+aiosqlite:///{data_dir / 'clinicore.db'}",
        demo=run_demo(env),
    )


@pytest.fixture
async def site(seeded: Seeded) -> AsyncIterator[DemoSite]:
    settings = load_settings(
        env="development",
        data_dir=seeded.data_dir,
        database_url=seeded.database_url,
        base_url="http://testserver",
        redis_url=None,
    )
    runtime = Runtime.from_settings(settings)
    try:
        transport = httpx.ASGITransport(app=create_app(runtime))
        async with httpx.AsyncClient(
            transport=transport, base_url="http://testserver/qualiphy/api"
        ) as client:
            yield DemoSite(
                runtime, client, uuid.UUID(seeded.demo["clinic_id"]), seeded.demo["qualiphy_api_key"]
            )
    finally:
        await runtime.close()


class TestTelehealthDemo:
    async def test_the_catalog_has_gfe_rx_and_urgent_care_exams_with_screening_questions(
        self, site: DemoSite
    ) -> None:
        exams = {exam.title: exam for exam in await site.exams()}
        assert len(exams) == len(await site.exams()) == 5  # once each, after two demo runs
        assert {"GFE - Botox", "GFE - Dermal Fillers"} <= {
            t for t, e in exams.items() if e.rx_type == RxType.gfe
        }
        rx_titles = {title for title, exam in exams.items() if exam.rx_type == RxType.rx}
        assert rx_titles == {"GLP-1 Weight Loss (Semaglutide)", "Hair Loss Treatment", "Urgent Care - UTI"}
        hair = exams["Hair Loss Treatment"]
        assert hair.attachments_required and hair.attachments == ["Picture of hair loss area"]
        async with site.runtime.sessions() as session:
            for exam in exams.values():
                questions = await catalog.questions(session, exam_id=exam.id)
                assert 2 <= len(questions) <= 4
                kinds = {entry.question.type for entry in questions}
                assert kinds == {QuestionType.single, QuestionType.multiple, QuestionType.text}
                [multi] = [entry for entry in questions if entry.question.type == QuestionType.multiple]
                assert multi.options[-1].text == "Other" and multi.options[-1].has_free_text

    async def test_two_partner_pharmacies_serve_every_rx_exam_in_every_served_state(
        self, site: DemoSite
    ) -> None:
        rx_ids = sorted(exam.id for exam in await site.exams() if exam.rx_type == RxType.rx)
        for state in sorted(SERVED_STATES):
            pharmacies = await site.post("partner_pharmacy_list", exam_ids=rx_ids, patient_state=state)
            assert len(pharmacies) == 2, state
            assert all(pharmacy["exam_ids"] == rx_ids for pharmacy in pharmacies)
        assert await site.post("partner_pharmacy_list", exam_ids=rx_ids, patient_state="AL") == []

    async def test_each_rx_exam_has_at_least_two_order_sets_at_each_pharmacy(self, site: DemoSite) -> None:
        rx_ids = [exam.id for exam in await site.exams() if exam.rx_type == RxType.rx]
        pharmacies = await site.post("partner_pharmacy_list", exam_ids=rx_ids, patient_state="CA")
        for pharmacy in pharmacies:
            for exam_id in rx_ids:
                packages = await site.post(
                    "partner_pharmacy_treatment_packages",
                    pharmacy_ids=pharmacy["pharmacy_id"],
                    exam_ids=exam_id,
                    patient_state="CA",
                )
                assert len(packages) == 2  # two per exam and pharmacy, after two demo runs
                for package in packages:
                    assert package["qualiphy_total_price"] is not None
                    assert package["items"] and all(
                        item["ndc"].startswith("00000-") for item in package["items"]
                    )

    async def test_the_retail_directory_is_loaded_from_the_demo_csv(self, site: DemoSite) -> None:
        with DEMO_DIRECTORY.open(newline="") as stream:
            rows = list(csv.DictReader(stream))
        assert len(rows) >= 20
        assert len({row["zip_code"][:5] for row in rows}) >= 5
        for row in rows:
            [found] = await site.post("custom_pharmacy_search", ncpdpid=row["ncpdpid"])
            assert found["pharmacy_name"] == row["name"]
        assert len(await site.post("custom_pharmacy_search", zip_code="10001")) >= 5

    async def test_test_providers_and_a_live_provider_licensed_in_ny_and_ca(self, site: DemoSite) -> None:
        async with site.runtime.sessions() as session:
            assert len(await providers.test_providers(session)) >= 2
            live = await session.scalar(
                select(Provider).where(Provider.email == "provider@clinicore.example")
            )
            assert live is not None and not live.is_test
            assert await providers.licensed_states(session, provider_id=live.id) == ["CA", "NY"]
            # The demo clinic works with its desk providers: its console's providers page lists them.
            listed = await provider_admin.list_providers(session, clinic_id=site.clinic_id)
        assert {view.provider.email for view in listed} == {LIVE_PROVIDER_EMAIL, MEDICAL_DIRECTOR_EMAIL}
        assert all(view.licensed_now == ["CA", "NY"] for view in listed)

    async def test_the_desk_provider_and_the_medical_director_sign_in_with_the_printed_password(
        self, seeded: Seeded, site: DemoSite
    ) -> None:
        assert seeded.demo["provider_email"] == LIVE_PROVIDER_EMAIL
        limiter = SignInThrottle(RateLimiter(), 5, 900)
        for email, director in ((LIVE_PROVIDER_EMAIL, False), (MEDICAL_DIRECTOR_EMAIL, True)):
            async with site.runtime.sessions() as session, session.begin():
                opened = await accounts_service.sign_in(
                    session,
                    kind=DeskAccountKind.provider,
                    email=email,
                    password=seeded.demo["provider_password"],
                    client_address="127.0.0.1",
                    throttle=limiter,
                )
                signed_in = await accounts_service.signed_in(
                    session, kind=DeskAccountKind.provider, token=opened.token
                )
                assert signed_in is not None
                provider = signed_in.account
                assert isinstance(provider, Provider) and provider.is_medical_director is director
                licences = await providers.licensed_states(session, provider_id=provider.id)
                assert licences == ["CA", "NY"]

    async def test_the_pharmacy_user_of_the_first_demo_pharmacy_signs_in_with_the_printed_password(
        self, seeded: Seeded, site: DemoSite
    ) -> None:
        assert seeded.demo["pharmacy_email"] == PHARMACY_USER_EMAIL
        async with site.runtime.sessions() as session, session.begin():
            opened = await accounts_service.sign_in(
                session,
                kind=DeskAccountKind.pharmacy_user,
                email=PHARMACY_USER_EMAIL,
                password=seeded.demo["pharmacy_password"],
                client_address="127.0.0.1",
                throttle=SignInThrottle(RateLimiter(), 5, 900),
            )
            signed_in = await accounts_service.signed_in(
                session, kind=DeskAccountKind.pharmacy_user, token=opened.token
            )
            assert signed_in is not None and isinstance(signed_in.account, PharmacyUser)
            pharmacy = await session.get(PartnerPharmacy, signed_in.account.pharmacy_id)
            assert pharmacy is not None and pharmacy.name == DEMO_PARTNER_PHARMACIES[0]["name"]
            users = (await session.scalars(select(PharmacyUser))).all()
            assert [user.email for user in users].count(PHARMACY_USER_EMAIL) == 1

    async def test_running_the_demo_again_duplicates_nothing(self, seeded: Seeded, site: DemoSite) -> None:
        before = await site.snapshot()
        seeded.demo.update(run_demo(seeded.env))  # each run replaces the demo keys
        site.api_key = seeded.demo["qualiphy_api_key"]
        assert await site.snapshot() == before


@pytest.fixture
async def root_client(seeded: Seeded) -> AsyncIterator[httpx.AsyncClient]:
    """The app over the demo's database, at the site's root, as an IntakeQ integrator reaches it."""
    settings = load_settings(
        env="development",
        data_dir=seeded.data_dir,
        database_url=seeded.database_url,
        base_url="http://testserver",
        redis_url=None,
    )
    runtime = Runtime.from_settings(settings)
    try:
        transport = httpx.ASGITransport(app=create_app(runtime))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client
    finally:
        await runtime.close()


class TestIntakeQPractice:
    """The demo clinic is a practice of the demo partner, as the partner API provisions one; the demo ran
    twice (``seeded``), so each thing below is also made once only."""

    async def test_the_partner_key_lists_the_demo_practice_with_its_main_user(
        self, seeded: Seeded, root_client: httpx.AsyncClient
    ) -> None:
        headers = {"X-Auth-Key": seeded.demo["intakeq_partner_key"]}
        response = await root_client.get("/intakeq/api/partner/practice", headers=headers)
        assert response.status_code == 200, response.text
        [practice] = [item for item in response.json() if item["ExternalPracticeId"] == "demo-1"]
        assert practice["PracticeName"] == "Demo Clinic"
        assert (practice["FirstName"], practice["LastName"]) == ("Maya", "Chen")
        assert practice["Email"] == "maya.chen@clinicore.example"
        assert practice["State"] == "NY" and practice["BookingEnabled"] is True
        key = await root_client.get(f"/intakeq/api/partner/practice/{practice['Id']}/key", headers=headers)
        assert key.status_code == 200, key.text
        assert key.json()["ApiKey"] == seeded.demo["intakeq_practice_key"]  # the printed key is the key

    async def test_the_practice_key_lists_its_main_practitioner_once(
        self, seeded: Seeded, root_client: httpx.AsyncClient
    ) -> None:
        response = await root_client.get(
            "/intakeq/api/v1/practitioners", headers={"X-Auth-Key": seeded.demo["intakeq_practice_key"]}
        )
        assert response.status_code == 200, response.text
        listed = sorted((item["CompleteName"], item["RoleName"]) for item in response.json())
        assert listed == [("Luis Ortega", "Practitioner"), ("Maya Chen", "Administrator")]

    async def test_the_partner_has_two_master_forms_and_the_practice_a_copy_of_the_questionnaire(
        self, seeded: Seeded, root_client: httpx.AsyncClient
    ) -> None:
        partner = {"X-Auth-Key": seeded.demo["intakeq_partner_key"]}
        masters = await root_client.get("/intakeq/api/partner/masterForms", headers=partner)
        assert masters.status_code == 200, masters.text
        assert sorted(form["Type"] for form in masters.json()) == ["Questionnaire", "TreatmentNote"]
        practice = {"X-Auth-Key": seeded.demo["intakeq_practice_key"]}
        questionnaires = await root_client.get("/intakeq/api/v1/questionnaires", headers=practice)
        assert questionnaires.status_code == 200, questionnaires.text
        assert len(questionnaires.json()) == 1  # copied once, though the demo ran twice

    async def test_the_partner_has_its_master_roles(self, seeded: Seeded) -> None:
        settings = load_settings(
            env="development",
            data_dir=seeded.data_dir,
            database_url=seeded.database_url,
            base_url="http://testserver",
            redis_url=None,
        )
        runtime = Runtime.from_settings(settings)
        try:
            async with runtime.sessions() as session:
                clinic = await tenancy_service.get_clinic(session, uuid.UUID(seeded.demo["clinic_id"]))
                roles = {
                    role.name: role.permissions
                    for role in await staff_roles.list_roles(session, partner_id=clinic.partner_id)
                }
        finally:
            await runtime.close()
        assert set(roles) == {"Administrator", "Front desk", "Practitioner"}  # each defined once
        assert roles["Practitioner"].book and roles["Practitioner"].open_forms
        assert roles["Front desk"].book and not roles["Front desk"].change_settings
