"""Intakes in the core: the snapshot of the template, finding or making the client, the practitioner,
the password and its lockout, tokens and their expiry, answers by kind, required questions and consents,
files, submitting (once), the event and the staff email."""

from __future__ import annotations

import asyncio
import secrets
import struct
import uuid
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from clinicore.core.audit.service import SYSTEM, Actor
from clinicore.core.forms import intake_document, intakes
from clinicore.core.forms import service as form_service
from clinicore.core.forms.intake_schemas import IntakeForm, IntakeRequest, IntakeView
from clinicore.core.forms.schemas import (
    ConsentDocumentDefinition,
    FormChanges,
    FormContents,
    FormDefinition,
    FormOwner,
    QuestionDefinition,
    SectionDefinition,
)
from clinicore.core.models import (
    AuditEntry,
    Clinic,
    Event,
    FormKind,
    FormQuestionKind,
    IntakeStatus,
    IntakeToken,
    OutboundEmail,
    Partner,
    Practitioner,
)
from clinicore.core.people import service as people_service
from clinicore.core.staff import service as staff_service
from clinicore.core.staff.schemas import PractitionerDetails
from clinicore.core.tenancy import practices
from clinicore.core.tenancy import service as tenancy_service
from clinicore.core.tenancy.practices import PracticeDetails
from clinicore.kit.clock import FrozenClock
from clinicore.kit.errors import Conflict, Forbidden, InvalidInput, NotFound, RateLimited
from clinicore.kit.storage import LocalFileStorage
from clinicore.runtime import Runtime

Q = FormQuestionKind
EVERY_KIND = [
    QuestionDefinition(kind=Q.text, text="Name", required=True),
    QuestionDefinition(kind=Q.long_text, text="Why"),
    QuestionDefinition(kind=Q.number, text="Height"),
    QuestionDefinition(kind=Q.date, text="Born"),
    QuestionDefinition(kind=Q.single_choice, text="Pick", choices=["Yes", "No"]),
    QuestionDefinition(kind=Q.multiple_choice, text="Symptoms", choices=["Cough", "Fever", "Rash"]),
    QuestionDefinition(
        kind=Q.matrix, text="How often", matrix_rows=["Sleep", "Eat"], matrix_columns=["Never", "Often"]
    ),
    QuestionDefinition(kind=Q.file_upload, text="Card"),
    QuestionDefinition(kind=Q.signature, text="Sign", required=True),
]
CONSENT = ConsentDocumentDefinition(name="HIPAA Release Form", html="<p>I consent.</p>")
MAX_BYTES = 1024 * 1024


def png(width: int = 2, height: int = 2) -> bytes:
    """A real (tiny, grey) PNG image."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@dataclass
class Practice:
    partner: Partner
    clinic: Clinic
    main: Practitioner
    form: FormContents
    clock: FrozenClock

    @property
    def owner(self) -> FormOwner:
        return FormOwner.clinic(self.clinic.id)

    def question_id(self, text: str) -> str:
        return next(str(q.id) for s in self.form.sections for q in s.questions if q.text == text)

    @property
    def consent_id(self) -> str:
        return str(self.form.consent_documents[0].id)


async def open_practice(runtime: Runtime, *, notification_url: str | None = None) -> Practice:
    clock = FrozenClock(datetime(2031, 5, 6, 14, 0, tzinfo=UTC))
    async with runtime.sessions() as session, session.begin():
        partner = await tenancy_service.create_partner(session, name=f"Partner {secrets.token_hex(4)}")
        partner.form_notification_url = notification_url
        made = await practices.create_practice(
            session,
            box=runtime.box,
            partner=partner,
            details=PracticeDetails(
                name="ABC Health",
                first_name="John",
                last_name="Smith",
                email=f"john-{secrets.token_hex(3)}@practice.example",
            ),
        )
        form = await form_service.create_form(
            session,
            owner=FormOwner.clinic(made.clinic.id),
            definition=FormDefinition(
                name="Intake Form",
                kind=FormKind.questionnaire,
                sections=[SectionDefinition(title="About you", questions=EVERY_KIND)],
                consent_documents=[CONSENT],
            ),
        )
    assert made.main is not None
    return Practice(partner=partner, clinic=made.clinic, main=made.main, form=form, clock=clock)


def request(practice: Practice, **fields: Any) -> IntakeRequest:
    values: dict[str, Any] = {
        "form_id": str(practice.form.form.id),
        "client_name": "Dexter Morgan",
        "client_email": f"dexter-{secrets.token_hex(3)}@example.com",
    } | fields
    return IntakeRequest(**values)


async def create(runtime: Runtime, practice: Practice, **fields: Any) -> IntakeView:
    async with runtime.sessions() as session, session.begin():
        clinic = await session.get(Clinic, practice.clinic.id)
        assert clinic is not None
        return await intakes.create_intake(
            session,
            clinic=clinic,
            request=request(practice, **fields),
            secret_box=runtime.box,
            base_url="http://clinicore.test",
            actor=SYSTEM,
            clock=practice.clock,
        )


async def refused_creation(runtime: Runtime, practice: Practice, **fields: Any) -> InvalidInput | NotFound:
    with pytest.raises((InvalidInput, NotFound)) as error:
        await create(runtime, practice, **fields)
    assert isinstance(error.value, InvalidInput | NotFound)
    return error.value


async def save(
    runtime: Runtime,
    practice: Practice,
    intake_id: uuid.UUID,
    answers: Mapping[str, object],
    consents: Mapping[str, str] | None = None,
) -> IntakeForm:
    async with runtime.sessions() as session, session.begin():
        return await intakes.save_progress(
            session, intake_id=intake_id, answers=answers, consents=consents or {}, clock=practice.clock
        )


async def submit(
    runtime: Runtime,
    practice: Practice,
    intake_id: uuid.UUID,
    answers: Mapping[str, object],
    consents: Mapping[str, str],
) -> IntakeForm:
    async with runtime.sessions() as session, session.begin():
        return await intakes.submit(
            session,
            intake_id=intake_id,
            answers=answers,
            consents=consents,
            clock=practice.clock,
            actor=Actor("patient"),
            base_url="http://clinicore.test",
        )


async def store(
    runtime: Runtime, practice: Practice, intake_id: uuid.UUID, question: str, data: bytes, **fields: Any
) -> Any:
    async with runtime.sessions() as session, session.begin():
        return await intakes.store_file(
            session,
            LocalFileStorage(runtime.settings.data_dir / "files"),
            intake_id=intake_id,
            question_id=practice.question_id(question),
            name=fields.get("name", "upload.bin"),
            content_type=fields.get("content_type", "application/octet-stream"),
            data=data,
            clock=practice.clock,
            max_bytes=fields.get("max_bytes", MAX_BYTES),
        )


async def authenticate(runtime: Runtime, practice: Practice, intake_id: uuid.UUID, **given: str) -> Any:
    """Sign in; the transaction commits even when refused, as the form page does."""
    async with runtime.sessions() as session, session.begin():
        try:
            return await intakes.authenticate(
                session, intake_id=str(intake_id), clock=practice.clock, secret_box=runtime.box, **given
            )
        except (Forbidden, RateLimited) as error:
            return error


async def complete_answers(runtime: Runtime, practice: Practice, intake_id: uuid.UUID) -> dict[str, object]:
    signature = await store(runtime, practice, intake_id, "Sign", png())
    return {practice.question_id("Name"): "Dexter", practice.question_id("Sign"): str(signature.id)}


@pytest.fixture
async def practice(runtime: Runtime) -> Practice:
    return await open_practice(runtime)


class TestCreateIntake:
    async def test_snapshots_the_template_so_a_later_change_leaves_the_intake_alone(
        self, runtime: Runtime, practice: Practice
    ) -> None:
        view = await create(runtime, practice)
        async with runtime.sessions() as session, session.begin():
            await form_service.update_form(
                session,
                owner=practice.owner,
                form_id=practice.form.form.id,
                changes=FormChanges(
                    name="Renamed",
                    sections=[SectionDefinition(questions=[QuestionDefinition(kind=Q.text, text="Other")])],
                ),
            )
        async with runtime.sessions() as session:
            form = await intakes.get_for_filling(session, intake_id=view.intake.id)
        assert form.form_name == "Intake Form"
        assert [q.text for q in form.questions] == [q.text for q in EVERY_KIND]
        assert form.sections[0].title == "About you"
        assert form.consent_documents[0].name == "HIPAA Release Form"
        assert form.status == IntakeStatus.created and view.intake.form_revision == 1

    async def test_has_a_six_digit_password_kept_encrypted_and_a_url_on_the_brand_host(
        self, runtime: Runtime, practice: Practice
    ) -> None:
        view = await create(runtime, practice)
        assert len(view.password) == 6 and view.password.isdigit()
        assert view.password not in view.intake.password_encrypted
        assert view.url == f"http://clinicore.test/intake/{view.intake.id}"

    async def test_makes_a_new_client_from_name_and_email(self, runtime: Runtime, practice: Practice) -> None:
        view = await create(runtime, practice, client_name="Rita Bennett", client_email="Rita@Example.com")
        assert (view.client.first_name, view.client.last_name) == ("Rita", "Bennett")
        assert view.client.email == "Rita@example.com"

    async def test_finds_the_client_by_email_by_number_and_by_external_id(
        self, runtime: Runtime, practice: Practice
    ) -> None:
        first = await create(runtime, practice, client_email="deb@example.com", external_client_id="ext-1")
        by_email = await create(runtime, practice, client_name="Deb M", client_email="DEB@example.com")
        by_number = await create(
            runtime, practice, client_name=None, client_email=None, client_number=first.client.number
        )
        by_external = await create(
            runtime, practice, client_name=None, client_email=None, external_client_id="ext-1"
        )
        assert first.client.external_client_id == "ext-1"
        assert {by_email.client.id, by_number.client.id, by_external.client.id} == {first.client.id}

    async def test_without_a_way_to_name_the_client_is_refused_naming_the_fields(
        self, runtime: Runtime, practice: Practice
    ) -> None:
        error = await refused_creation(runtime, practice, client_name=None, client_email=None)
        assert isinstance(error, InvalidInput)
        assert "client_number" in error.message and "external_client_id" in error.message
        assert "client_name" in error.message and error.field == "client_number"
        error = await refused_creation(runtime, practice, client_email=None)  # a name alone is nobody
        assert error.field == "client_number"

    async def test_an_unknown_client_number_or_external_id_is_refused(
        self, runtime: Runtime, practice: Practice
    ) -> None:
        error = await refused_creation(runtime, practice, client_number=999_999)
        assert isinstance(error, NotFound) and error.field == "client_number"
        error = await refused_creation(runtime, practice, client_name=None, external_client_id="nobody")
        assert isinstance(error, NotFound) and error.field == "external_client_id"

    async def test_a_bad_email_is_refused_naming_the_field(
        self, runtime: Runtime, practice: Practice
    ) -> None:
        error = await refused_creation(runtime, practice, client_email="not an email")
        assert error.field == "client_email"

    async def test_practitioner_is_the_one_given_else_the_clients_else_the_main_one(
        self, runtime: Runtime, practice: Practice
    ) -> None:
        async with runtime.sessions() as session, session.begin():
            clinic = await session.get(Clinic, practice.clinic.id)
            assert clinic is not None
            other = await staff_service.create_practitioner(
                session,
                clinic=clinic,
                details=PractitionerDetails(
                    first_name="Ana", last_name="Ruiz", email="ana@practice.example", external_id="p-9"
                ),
            )
            owned = await people_service.client_for_contact(
                session, clinic_id=clinic.id, full_name="Owned One", email="owned@example.com", phone=None
            )
            owned.practitioner_id = other.id
        assert (await create(runtime, practice)).intake.practitioner_id == practice.main.id
        assert (await create(runtime, practice, practitioner="p-9")).intake.practitioner_id == other.id
        assert (await create(runtime, practice, practitioner=other.id.hex)).intake.practitioner_id == other.id
        owned_view = await create(runtime, practice, client_email="owned@example.com")
        assert owned_view.intake.practitioner_id == other.id
        error = await refused_creation(runtime, practice, practitioner="nobody")
        assert isinstance(error, NotFound) and error.field == "practitioner_id"

    async def test_a_practice_with_forms_switched_off_makes_no_intake(
        self, runtime: Runtime, practice: Practice
    ) -> None:
        async with runtime.sessions() as session, session.begin():
            clinic = await session.get(Clinic, practice.clinic.id)
            assert clinic is not None
            clinic.forms_enabled = False
        error = await refused_creation(runtime, practice)
        assert isinstance(error, InvalidInput) and error.field == "forms_enabled"

    async def test_an_archived_a_missing_or_another_practices_form_is_refused(
        self, runtime: Runtime, practice: Practice
    ) -> None:
        other = await open_practice(runtime)
        error = await refused_creation(runtime, practice, form_id=str(other.form.form.id))
        assert isinstance(error, NotFound) and error.field == "form_id"
        error = await refused_creation(runtime, practice, form_id="not-a-form")
        assert error.field == "form_id"
        error = await refused_creation(runtime, practice, form_id=None)
        assert isinstance(error, InvalidInput) and error.field == "form_id"
        async with runtime.sessions() as session, session.begin():
            await form_service.set_form_archived(
                session, owner=practice.owner, form_id=practice.form.form.id, archived=True
            )
        error = await refused_creation(runtime, practice)
        assert isinstance(error, InvalidInput) and "archived" in error.message

    async def test_is_audited_and_emits_intake_created(self, runtime: Runtime, practice: Practice) -> None:
        view = await create(runtime, practice)
        async with runtime.sessions() as session:
            events = (
                await session.scalars(select(Event).where(Event.aggregate_id == str(view.intake.id)))
            ).all()
            audit = (
                await session.scalars(select(AuditEntry).where(AuditEntry.target_id == str(view.intake.id)))
            ).all()
        assert [event.type for event in events] == ["intake.created"]
        assert events[0].payload["intake"]["client_number"] == view.client.number
        assert "dexter" not in str(events[0].payload).lower()  # ids only, no patient details
        assert [entry.action for entry in audit] == ["intake.created"]


class TestSendIntake:
    async def test_emails_the_client_the_link_and_password_and_marks_it_sent(
        self, runtime: Runtime, practice: Practice
    ) -> None:
        async with runtime.sessions() as session, session.begin():
            clinic = await session.get(Clinic, practice.clinic.id)
            assert clinic is not None
            view = await intakes.send_intake(
                session,
                clinic=clinic,
                request=request(practice),
                secret_box=runtime.box,
                base_url="http://clinicore.test",
                actor=SYSTEM,
                clock=practice.clock,
            )
        async with runtime.sessions() as session:
            emails = (
                await session.scalars(
                    select(OutboundEmail).where(OutboundEmail.to_address == view.client.email)
                )
            ).all()
        assert view.intake.status == IntakeStatus.sent and view.intake.sent_at == practice.clock.now()
        assert len(emails) == 1
        assert view.url in emails[0].body and view.password in emails[0].body
        assert "Dexter" not in emails[0].subject and "ABC Health" in emails[0].subject


class TestAuthenticate:
    async def test_the_password_opens_the_intake_and_a_wrong_one_is_forbidden(
        self, runtime: Runtime, practice: Practice
    ) -> None:
        view = await create(runtime, practice)
        opened = await authenticate(runtime, practice, view.intake.id, password=view.password)
        assert opened.id == view.intake.id
        assert isinstance(
            await authenticate(runtime, practice, view.intake.id, password="000000x"), Forbidden
        )

    async def test_an_unknown_intake_is_not_found(self, runtime: Runtime, practice: Practice) -> None:
        for unknown in (str(uuid.uuid4()), "not-an-id", ""):
            with pytest.raises(NotFound):
                await authenticate(runtime, practice, unknown, password="123456")  # type: ignore[arg-type]

    async def test_five_wrong_passwords_lock_it_for_fifteen_minutes_but_a_token_still_works(
        self, runtime: Runtime, practice: Practice
    ) -> None:
        view = await create(runtime, practice)
        wrong = "999999" if view.password != "999999" else "888888"
        for _ in range(intakes.MAX_PASSWORD_ATTEMPTS):
            assert isinstance(
                await authenticate(runtime, practice, view.intake.id, password=wrong), Forbidden
            )
        locked = await authenticate(runtime, practice, view.intake.id, password=view.password)
        assert isinstance(locked, RateLimited) and locked.retry_after == 15 * 60
        token = await issue(runtime, practice, view.intake.id)
        assert (await authenticate(runtime, practice, view.intake.id, token=token)).id == view.intake.id
        practice.clock.advance(intakes.PASSWORD_LOCK)
        assert (
            await authenticate(runtime, practice, view.intake.id, password=view.password)
        ).id == view.intake.id

    async def test_nothing_opens_or_fills_while_the_practices_forms_are_switched_off(
        self, runtime: Runtime, practice: Practice
    ) -> None:
        view = await create(runtime, practice)
        async with runtime.sessions() as session, session.begin():
            clinic = await session.get(Clinic, practice.clinic.id)
            assert clinic is not None
            clinic.forms_enabled = False
        assert isinstance(
            await authenticate(runtime, practice, view.intake.id, password=view.password), Forbidden
        )
        with pytest.raises(Forbidden):
            await save(runtime, practice, view.intake.id, {practice.question_id("Name"): "x"})

    async def test_a_right_password_resets_the_count(self, runtime: Runtime, practice: Practice) -> None:
        view = await create(runtime, practice)
        wrong = "999999" if view.password != "999999" else "888888"
        for _ in range(intakes.MAX_PASSWORD_ATTEMPTS - 1):
            await authenticate(runtime, practice, view.intake.id, password=wrong)
        await authenticate(runtime, practice, view.intake.id, password=view.password)
        assert isinstance(await authenticate(runtime, practice, view.intake.id, password=wrong), Forbidden)
        assert (
            await authenticate(runtime, practice, view.intake.id, password=view.password)
        ).id == view.intake.id


async def issue(runtime: Runtime, practice: Practice, intake_id: uuid.UUID) -> str:
    async with runtime.sessions() as session, session.begin():
        issued = await intakes.issue_token(
            session,
            clinic_id=practice.clinic.id,
            intake_id=intake_id,
            base_url="http://clinicore.test",
            actor=SYSTEM,
            clock=practice.clock,
        )
    return issued.token


class TestTokens:
    async def test_is_40_hex_kept_as_a_digest_and_expires_after_24_hours(
        self, runtime: Runtime, practice: Practice
    ) -> None:
        view = await create(runtime, practice)
        token = await issue(runtime, practice, view.intake.id)
        assert len(token) == 40 and all(c in "0123456789abcdef" for c in token)
        async with runtime.sessions() as session:
            rows = (
                await session.scalars(select(IntakeToken).where(IntakeToken.intake_id == view.intake.id))
            ).all()
        assert [row.expires_at for row in rows] == [practice.clock.now() + timedelta(hours=24)]
        assert token not in rows[0].digest
        practice.clock.advance(timedelta(hours=24) - timedelta(seconds=1))
        assert (await authenticate(runtime, practice, view.intake.id, token=token)).id == view.intake.id
        practice.clock.advance(timedelta(seconds=1))
        assert isinstance(await authenticate(runtime, practice, view.intake.id, token=token), Forbidden)

    async def test_another_intakes_token_opens_nothing(self, runtime: Runtime, practice: Practice) -> None:
        first, second = await create(runtime, practice), await create(runtime, practice)
        token = await issue(runtime, practice, first.intake.id)
        assert isinstance(await authenticate(runtime, practice, second.intake.id, token=token), Forbidden)

    async def test_another_practices_intake_gets_no_token(self, runtime: Runtime, practice: Practice) -> None:
        other = await open_practice(runtime)
        view = await create(runtime, other)
        with pytest.raises(NotFound):
            await issue(runtime, practice, view.intake.id)


class TestAnswers:
    @pytest.mark.parametrize(
        ("question", "given", "stored"),
        [
            ("Name", "  Dexter  ", "Dexter"),
            ("Height", "180.5", "180.5"),
            ("Height", 72, "72"),
            ("Born", "1990-02-28", "1990-02-28"),
            ("Pick", "yes", "Yes"),
            ("Symptoms", ["rash", "Cough"], ["Cough", "Rash"]),
            ("Symptoms", "Fever", ["Fever"]),
            ("How often", {"sleep": "never", "Eat": ""}, {"Sleep": "Never"}),
        ],
    )
    async def test_each_kind_keeps_a_good_value_as_the_form_spells_it(
        self, runtime: Runtime, practice: Practice, question: str, given: object, stored: object
    ) -> None:
        view = await create(runtime, practice)
        form = await save(runtime, practice, view.intake.id, {practice.question_id(question): given})
        assert form.answers[practice.question_id(question)] == stored
        assert form.status == IntakeStatus.in_progress

    @pytest.mark.parametrize(
        ("question", "given"),
        [
            ("Name", 12),
            ("Name", "x" * (intakes.MAX_TEXT_ANSWER + 1)),
            ("Height", "tall"),
            ("Height", "1e400"),
            ("Born", "1990-02-30"),
            ("Born", "02/03/1990"),
            ("Pick", "Maybe"),
            ("Pick", ["Yes"]),
            ("Symptoms", ["Cough", "Flu"]),
            ("How often", {"Walk": "Never"}),
            ("How often", {"Sleep": "Always"}),
            ("How often", "Never"),
            ("Card", "5d1b8f0c-dd2c-447e-ad5a-65c852201bff"),  # no file of the intake has this id
            ("Sign", "not-a-file"),
        ],
    )
    async def test_a_bad_value_is_refused_naming_the_question_and_saves_nothing(
        self, runtime: Runtime, practice: Practice, question: str, given: object
    ) -> None:
        view = await create(runtime, practice)
        name = practice.question_id("Name")
        with pytest.raises(InvalidInput) as error:
            await save(
                runtime, practice, view.intake.id, {name: "kept?", practice.question_id(question): given}
            )
        assert error.value.field == practice.question_id(question)
        async with runtime.sessions() as session:
            assert (await intakes.get_for_filling(session, intake_id=view.intake.id)).answers == {}

    async def test_an_unknown_question_is_refused(self, runtime: Runtime, practice: Practice) -> None:
        view = await create(runtime, practice)
        with pytest.raises(InvalidInput):
            await save(runtime, practice, view.intake.id, {"nope": "x"})

    async def test_saving_merges_and_a_blank_value_clears(self, runtime: Runtime, practice: Practice) -> None:
        view = await create(runtime, practice)
        name, why = practice.question_id("Name"), practice.question_id("Why")
        await save(runtime, practice, view.intake.id, {name: "Dexter", why: "Checkup"})
        form = await save(runtime, practice, view.intake.id, {why: "  "})
        assert form.answers == {name: "Dexter"}

    async def test_a_file_answer_is_a_file_of_that_question(
        self, runtime: Runtime, practice: Practice
    ) -> None:
        view = await create(runtime, practice)
        card = await store(runtime, practice, view.intake.id, "Card", PDF, name="../../card.pdf")
        assert (card.content_type, card.name, card.size) == ("application/pdf", "card.pdf", len(PDF))
        form = await save(runtime, practice, view.intake.id, {practice.question_id("Card"): str(card.id)})
        assert form.answers[practice.question_id("Card")] == str(card.id)
        with pytest.raises(InvalidInput):  # the card is not a signature
            await save(runtime, practice, view.intake.id, {practice.question_id("Sign"): str(card.id)})


class TestSavedConsents:
    async def test_saving_keeps_a_signature_and_an_empty_name_clears_it(
        self, runtime: Runtime, practice: Practice
    ) -> None:
        view = await create(runtime, practice)
        signed_at = practice.clock.now().isoformat()
        form = await save(runtime, practice, view.intake.id, {}, {practice.consent_id: " Dexter Morgan "})
        assert form.consents == {
            practice.consent_id: {"signer_name": "Dexter Morgan", "signed_at": signed_at}
        }
        practice.clock.advance(timedelta(minutes=5))
        form = await save(runtime, practice, view.intake.id, {practice.question_id("Name"): "Dexter"})
        assert form.consents[practice.consent_id]["signed_at"] == signed_at  # not sent: kept as it was
        form = await save(runtime, practice, view.intake.id, {}, {practice.consent_id: "Dexter Morgan"})
        assert form.consents[practice.consent_id]["signed_at"] == signed_at  # the same name: first signing
        form = await save(runtime, practice, view.intake.id, {}, {practice.consent_id: "Harry Morgan"})
        assert form.consents[practice.consent_id] == {
            "signer_name": "Harry Morgan",
            "signed_at": practice.clock.now().isoformat(),
        }
        form = await save(runtime, practice, view.intake.id, {}, {practice.consent_id: "  "})
        assert form.consents == {}

    async def test_a_saved_signature_counts_on_submit_unless_cleared_then(
        self, runtime: Runtime, practice: Practice
    ) -> None:
        view = await create(runtime, practice)
        await save(runtime, practice, view.intake.id, {}, {practice.consent_id: "Dexter Morgan"})
        answers = await complete_answers(runtime, practice, view.intake.id)
        with pytest.raises(intakes.IncompleteIntake) as error:
            await submit(runtime, practice, view.intake.id, answers, {practice.consent_id: ""})
        assert error.value.missing == [practice.consent_id]
        form = await submit(runtime, practice, view.intake.id, answers, {})
        assert form.consents[practice.consent_id]["signer_name"] == "Dexter Morgan"

    async def test_saving_refuses_what_submit_refuses_and_keeps_nothing(
        self, runtime: Runtime, practice: Practice
    ) -> None:
        view = await create(runtime, practice)
        name = practice.question_id("Name")
        with pytest.raises(InvalidInput):
            await save(runtime, practice, view.intake.id, {name: "Dexter"}, {"nope": "Dexter"})
        with pytest.raises(InvalidInput) as error:
            await save(runtime, practice, view.intake.id, {name: "Dexter"}, {practice.consent_id: "x" * 201})
        assert error.value.field == practice.consent_id
        with pytest.raises(InvalidInput):
            await save(runtime, practice, view.intake.id, {}, {practice.consent_id: "Dex\x00ter"})
        with pytest.raises(InvalidInput):
            await save(runtime, practice, view.intake.id, {}, {practice.consent_id: 7})  # type: ignore[dict-item]
        async with runtime.sessions() as session:
            form = await intakes.get_for_filling(session, intake_id=view.intake.id)
        assert form.consents == {} and name not in form.answers


class TestFiles:
    async def test_types_are_judged_by_their_bytes(self, runtime: Runtime, practice: Practice) -> None:
        view = await create(runtime, practice)
        text = await store(
            runtime, practice, view.intake.id, "Card", b"plain words\n", content_type="image/png"
        )
        assert text.content_type == "text/plain"
        with pytest.raises(InvalidInput) as error:
            await store(
                runtime, practice, view.intake.id, "Card", b"MZ\x90\x00\x03" + bytes(200), name="a.pdf"
            )
        assert error.value.field == "file"

    async def test_a_signature_must_be_a_png(self, runtime: Runtime, practice: Practice) -> None:
        view = await create(runtime, practice)
        with pytest.raises(InvalidInput) as error:
            await store(runtime, practice, view.intake.id, "Sign", PDF)
        assert "PNG" in error.value.message
        assert (await store(runtime, practice, view.intake.id, "Sign", png())).content_type == "image/png"

    async def test_too_large_empty_or_for_a_question_without_files_is_refused(
        self, runtime: Runtime, practice: Practice
    ) -> None:
        view = await create(runtime, practice)
        with pytest.raises(InvalidInput):
            await store(runtime, practice, view.intake.id, "Card", PDF, max_bytes=len(PDF) - 1)
        with pytest.raises(InvalidInput):
            await store(runtime, practice, view.intake.id, "Card", b"")
        with pytest.raises(InvalidInput) as error:
            await store(runtime, practice, view.intake.id, "Name", PDF)
        assert error.value.field == "question_id"

    async def test_reads_back_its_bytes_and_only_for_its_intake(
        self, runtime: Runtime, practice: Practice
    ) -> None:
        view, other = await create(runtime, practice), await create(runtime, practice)
        stored = await store(runtime, practice, view.intake.id, "Card", PDF)
        storage = LocalFileStorage(runtime.settings.data_dir / "files")
        async with runtime.sessions() as session:
            found, data = await intakes.read_file(
                session, storage, intake_id=view.intake.id, file_id=stored.id
            )
            assert (found.id, data) == (stored.id, PDF)
            with pytest.raises(NotFound):
                await intakes.read_file(session, storage, intake_id=other.intake.id, file_id=stored.id)


class TestSubmit:
    async def test_lists_every_missing_required_answer_and_unsigned_consent(
        self, runtime: Runtime, practice: Practice
    ) -> None:
        view = await create(runtime, practice)
        with pytest.raises(intakes.IncompleteIntake) as error:
            await submit(runtime, practice, view.intake.id, {practice.question_id("Why"): "x"}, {})
        assert error.value.missing == [
            practice.question_id("Name"),
            practice.question_id("Sign"),
            practice.consent_id,
        ]
        assert '"Name"' in error.value.message and "HIPAA" in error.value.message

    async def test_closes_the_intake_emits_the_event_and_emails_the_practitioner(
        self, runtime: Runtime, practice: Practice
    ) -> None:
        view = await create(runtime, practice)
        answers = await complete_answers(runtime, practice, view.intake.id)
        form = await submit(
            runtime, practice, view.intake.id, answers, {practice.consent_id: " Dexter Morgan "}
        )
        assert form.status == IntakeStatus.submitted and form.submitted_at == practice.clock.now()
        assert form.consents[practice.consent_id] == {
            "signer_name": "Dexter Morgan",
            "signed_at": practice.clock.now().isoformat(),
        }
        async with runtime.sessions() as session:
            events = (
                await session.scalars(
                    select(Event).where(Event.aggregate_id == str(view.intake.id)).order_by(Event.sequence)
                )
            ).all()
            emails = (
                await session.scalars(
                    select(OutboundEmail).where(OutboundEmail.to_address == practice.main.email)
                )
            ).all()
        assert [event.type for event in events] == ["intake.created", "intake.submitted"]
        assert events[1].payload["intake"]["practice_id"] == practice.clinic.practice_id
        assert len(emails) == 1 and "Dexter" not in emails[0].subject
        assert f"http://clinicore.test/console/intakes/{view.intake.id}" in emails[0].body

    async def test_the_staff_link_follows_the_partners_notification_url(self, runtime: Runtime) -> None:
        practice = await open_practice(
            runtime, notification_url="https://partner.example/intake/[form-id]?x=1"
        )
        view = await create(runtime, practice)
        answers = await complete_answers(runtime, practice, view.intake.id)
        await submit(runtime, practice, view.intake.id, answers, {practice.consent_id: "Dexter"})
        async with runtime.sessions() as session:
            email = await session.scalar(
                select(OutboundEmail).where(OutboundEmail.to_address == practice.main.email)
            )
        assert email is not None and f"https://partner.example/intake/{view.intake.id}?x=1" in email.body

    async def test_twice_is_a_conflict_and_nothing_changes_after(
        self, runtime: Runtime, practice: Practice
    ) -> None:
        view = await create(runtime, practice)
        answers = await complete_answers(runtime, practice, view.intake.id)
        await submit(runtime, practice, view.intake.id, answers, {practice.consent_id: "Dexter"})
        with pytest.raises(Conflict):
            await submit(runtime, practice, view.intake.id, answers, {practice.consent_id: "Dexter"})
        with pytest.raises(Conflict):
            await save(runtime, practice, view.intake.id, {practice.question_id("Why"): "late"})
        with pytest.raises(Conflict):
            await store(runtime, practice, view.intake.id, "Card", PDF)

    async def test_two_submissions_at_once_give_one_success_and_one_event(
        self, runtime: Runtime, practice: Practice
    ) -> None:
        view = await create(runtime, practice)
        answers = await complete_answers(runtime, practice, view.intake.id)
        consents = {practice.consent_id: "Dexter"}
        results = await asyncio.gather(
            submit(runtime, practice, view.intake.id, answers, consents),
            submit(runtime, practice, view.intake.id, answers, consents),
            return_exceptions=True,
        )
        assert sorted(type(result).__name__ for result in results) == ["Conflict", "IntakeForm"]
        async with runtime.sessions() as session:
            types = (
                await session.scalars(select(Event.type).where(Event.aggregate_id == str(view.intake.id)))
            ).all()
        assert sorted(types) == ["intake.created", "intake.submitted"]

    async def test_an_unknown_consent_document_or_an_overlong_signer_is_refused(
        self, runtime: Runtime, practice: Practice
    ) -> None:
        view = await create(runtime, practice)
        answers = await complete_answers(runtime, practice, view.intake.id)
        with pytest.raises(InvalidInput):
            await submit(runtime, practice, view.intake.id, answers, {"nope": "Dexter"})
        with pytest.raises(InvalidInput) as error:
            await submit(runtime, practice, view.intake.id, answers, {practice.consent_id: "x" * 201})
        assert error.value.field == practice.consent_id


class TestListAndDocument:
    async def test_lists_submitted_ones_by_default_and_filters_by_client_and_local_dates(
        self, runtime: Runtime, practice: Practice
    ) -> None:
        done = await create(runtime, practice, client_name="Rita Bennett", client_email="rita@example.com")
        answers = await complete_answers(runtime, practice, done.intake.id)
        await submit(runtime, practice, done.intake.id, answers, {practice.consent_id: "Rita"})
        practice.clock.advance(timedelta(days=1))
        pending = await create(runtime, practice)

        async def listed(**filters: Any) -> Sequence[uuid.UUID]:
            arguments: dict[str, Any] = {
                "client": None,
                "start": None,
                "end": None,
                "page": 1,
                "include_unsubmitted": False,
            } | filters
            async with runtime.sessions() as session:
                rows = await intakes.list_intakes(session, clinic_id=practice.clinic.id, **arguments)
            return [row.intake.id for row in rows]

        assert await listed() == [done.intake.id]
        assert await listed(include_unsubmitted=True) == [pending.intake.id, done.intake.id]
        assert await listed(client="bennett") == [done.intake.id]
        assert await listed(client="nobody") == []
        created_day = done.intake.created_at.astimezone().date()  # 14:00 UTC is the same day in New York
        assert await listed(start=created_day, end=created_day, include_unsubmitted=True) == [done.intake.id]
        assert await listed(page=2, include_unsubmitted=True) == []
        with pytest.raises(InvalidInput):
            await listed(page=0)

    async def test_filters_by_status(self, runtime: Runtime, practice: Practice) -> None:
        done = await create(runtime, practice)
        answers = await complete_answers(runtime, practice, done.intake.id)
        await submit(runtime, practice, done.intake.id, answers, {practice.consent_id: "Rita"})
        started = await create(runtime, practice)
        await save(runtime, practice, started.intake.id, {})
        fresh = await create(runtime, practice)

        async def listed(status: IntakeStatus, *, everything: bool = True) -> list[uuid.UUID]:
            async with runtime.sessions() as session:
                rows = await intakes.list_intakes(
                    session,
                    clinic_id=practice.clinic.id,
                    client=None,
                    start=None,
                    end=None,
                    page=1,
                    include_unsubmitted=everything,
                    status=status,
                )
            return [row.intake.id for row in rows]

        assert await listed(IntakeStatus.submitted) == [done.intake.id]
        assert await listed(IntakeStatus.in_progress) == [started.intake.id]
        assert await listed(fresh.intake.status) == [fresh.intake.id]
        assert await listed(IntakeStatus.in_progress, everything=False) == []
        with pytest.raises(InvalidInput):
            await listed("submitted; drop table intakes")  # type: ignore[arg-type]

    async def test_renders_a_pdf_with_the_answers_and_the_signature(
        self, runtime: Runtime, practice: Practice
    ) -> None:
        view = await create(runtime, practice)
        answers = await complete_answers(runtime, practice, view.intake.id)
        await submit(runtime, practice, view.intake.id, answers, {practice.consent_id: "Dexter Morgan"})
        other = await open_practice(runtime)
        async with runtime.sessions() as session:
            document = await intake_document.render_pdf(
                session,
                LocalFileStorage(runtime.settings.data_dir / "files"),
                clinic_id=practice.clinic.id,
                intake_id=view.intake.id,
            )
            assert document.startswith(b"%PDF")
            assert b"/Subtype /Image" in document
            with pytest.raises(NotFound):
                await intake_document.render_pdf(
                    session,
                    LocalFileStorage(runtime.settings.data_dir / "files"),
                    clinic_id=other.clinic.id,
                    intake_id=view.intake.id,
                )


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("https://partner.example/intake/[form-id]", "https://partner.example/intake/{id}"),
        ("https://partner.example/intake/[formId]?x=1", "https://partner.example/intake/{id}?x=1"),
        (None, "http://clinicore.test/console/intakes/{id}"),
    ],
)
def test_the_staff_link_takes_either_placeholder_of_the_partner_doc(
    template: str | None, expected: str
) -> None:
    intake_id = uuid.uuid4()
    link = intakes.staff_link(template, base_url="http://clinicore.test/", intake_id=intake_id)
    assert link == expected.format(id=intake_id)
