"""Form templates in the core: what a definition may hold, the bounds, sanitised consent documents,
owners (a partner's master forms, a clinic's practice forms), archiving and copying into a practice."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass

import pytest

from clinicore.core.forms import service as form_service
from clinicore.core.forms.schemas import (
    ConsentDocumentDefinition,
    FormChanges,
    FormContents,
    FormDefinition,
    FormOwner,
    QuestionDefinition,
    SectionDefinition,
)
from clinicore.core.models import Clinic, FormKind, FormQuestionKind, Partner
from clinicore.core.tenancy import practices
from clinicore.core.tenancy import service as tenancy_service
from clinicore.core.tenancy.practices import PracticeDetails
from clinicore.kit.errors import InvalidInput, NotFound
from clinicore.runtime import Runtime

EVERY_KIND = [
    QuestionDefinition(kind=FormQuestionKind.text, text="Name", required=True),
    QuestionDefinition(kind=FormQuestionKind.long_text, text="Why", help_text="A few words"),
    QuestionDefinition(kind=FormQuestionKind.number, text="Height"),
    QuestionDefinition(kind=FormQuestionKind.date, text="Born"),
    QuestionDefinition(kind=FormQuestionKind.single_choice, text="Pick", choices=["Yes", "No"]),
    QuestionDefinition(kind=FormQuestionKind.multiple_choice, text="I agree", choices=["I agree"]),
    QuestionDefinition(
        kind=FormQuestionKind.matrix,
        text="How often",
        matrix_rows=["Sleep"],
        matrix_columns=["Never", "Often"],
    ),
    QuestionDefinition(kind=FormQuestionKind.file_upload, text="Card"),
    QuestionDefinition(kind=FormQuestionKind.signature, text="Sign", required=True),
]
CONSENT = ConsentDocumentDefinition(name="HIPAA Release Form", html="<p>I consent.</p>")


def definition(
    *,
    name: str = "Intake Form",
    kind: str = FormKind.questionnaire,
    questions: Sequence[QuestionDefinition] = (QuestionDefinition(kind="text", text="Name"),),
    sections: Sequence[SectionDefinition] | None = None,
    consent_documents: Sequence[ConsentDocumentDefinition] = (),
) -> FormDefinition:
    return FormDefinition(
        name=name,
        kind=kind,
        sections=[SectionDefinition(questions=questions)] if sections is None else sections,
        consent_documents=consent_documents,
    )


@dataclass
class PartnerWithPractice:
    partner: Partner
    clinic: Clinic

    @property
    def owner(self) -> FormOwner:
        return FormOwner.partner(self.partner.id)


async def partner_with_practice(runtime: Runtime, *, external_id: str | None = None) -> PartnerWithPractice:
    async with runtime.sessions() as session, session.begin():
        partner = await tenancy_service.create_partner(session, name=f"Partner {secrets.token_hex(4)}")
        made = await practices.create_practice(
            session,
            box=runtime.box,
            partner=partner,
            details=PracticeDetails(
                name="ABC Health",
                first_name="John",
                last_name="Smith",
                email=f"john-{secrets.token_hex(3)}@practice.example",
                external_practice_id=external_id,
            ),
        )
    return PartnerWithPractice(partner=partner, clinic=made.clinic)


async def create(runtime: Runtime, owner: FormOwner, made: FormDefinition | None = None) -> FormContents:
    async with runtime.sessions() as session, session.begin():
        return await form_service.create_form(session, owner=owner, definition=made or definition())


async def refused(runtime: Runtime, owner: FormOwner, made: FormDefinition) -> InvalidInput:
    with pytest.raises(InvalidInput) as error:
        await create(runtime, owner, made)
    return error.value


def question(kind: str, **fields: object) -> QuestionDefinition:
    return QuestionDefinition(kind=kind, text=fields.pop("text", "Q"), **fields)  # type: ignore[arg-type]


class TestCreateForm:
    async def test_keeps_sections_and_questions_in_order_with_every_kind(self, runtime: Runtime) -> None:
        made = await partner_with_practice(runtime)
        form = await create(
            runtime,
            made.owner,
            definition(
                sections=[
                    SectionDefinition(title=" About you ", questions=EVERY_KIND[:4]),
                    SectionDefinition(title="More", description="Details", questions=EVERY_KIND[4:]),
                ],
                consent_documents=[CONSENT],
            ),
        )
        assert (form.form.name, form.form.kind, form.form.archived, form.form.revision) == (
            "Intake Form",
            "questionnaire",
            False,
            1,
        )
        assert (form.form.partner_id, form.form.clinic_id) == (made.partner.id, None)
        assert [part.section.title for part in form.sections] == ["About you", "More"]
        kinds = [question.kind for part in form.sections for question in part.questions]
        assert kinds == [kind.value for kind in FormQuestionKind]
        positions = [question.position for part in form.sections for question in part.questions]
        assert positions == list(range(len(EVERY_KIND)))
        matrix = form.sections[1].questions[2]
        assert (matrix.matrix_rows, matrix.matrix_columns, matrix.choices) == (
            ["Sleep"],
            ["Never", "Often"],
            [],
        )
        assert [(d.name, d.html) for d in form.consent_documents] == [
            ("HIPAA Release Form", "<p>I consent.</p>")
        ]
        async with runtime.sessions() as session:
            again = await form_service.get_form(session, owner=made.owner, form_id=str(form.form.id))
        assert [q.text for part in again.sections for q in part.questions] == [q.text for q in EVERY_KIND]
        assert again.sections[0].questions[0].required is True

    async def test_a_practice_form_belongs_to_its_clinic(self, runtime: Runtime) -> None:
        made = await partner_with_practice(runtime)
        form = await create(
            runtime, FormOwner.clinic(made.clinic.id), definition(kind=FormKind.treatment_note)
        )
        assert (form.form.clinic_id, form.form.partner_id, form.form.kind) == (
            made.clinic.id,
            None,
            "treatment_note",
        )

    async def test_the_name_is_required_bounded_and_without_nul(self, runtime: Runtime) -> None:
        owner = (await partner_with_practice(runtime)).owner
        for name, message in (
            ("  ", "name: is required"),
            ("x" * 201, "name: at most 200 characters"),
            ("A\x00B", "name: must not contain NUL characters"),
        ):
            error = await refused(runtime, owner, definition(name=name))
            assert (error.message, error.field, error.subject) == (message, "name", "form")

    async def test_unknown_kinds_are_refused(self, runtime: Runtime) -> None:
        owner = (await partner_with_practice(runtime)).owner
        error = await refused(runtime, owner, definition(kind="Survey"))
        assert error.message == "kind: must be one of questionnaire, treatment_note"
        error = await refused(runtime, owner, definition(questions=[question("slider")]))
        assert error.message.startswith("sections.0.questions.0.kind: must be one of text, long_text")

    async def test_question_texts_are_required_and_bounded(self, runtime: Runtime) -> None:
        owner = (await partner_with_practice(runtime)).owner
        for made, message in (
            (question("text", text=""), "sections.0.questions.0.text: is required"),
            (question("text", text="q" * 1001), "sections.0.questions.0.text: at most 1000 characters"),
            (
                question("text", help_text="h" * 1001),
                "sections.0.questions.0.help_text: at most 1000 characters",
            ),
            (question("date", text="\x00"), "sections.0.questions.0.text: must not contain NUL characters"),
        ):
            assert (await refused(runtime, owner, definition(questions=[made]))).message == message

    async def test_choice_questions_need_distinct_bounded_choices(self, runtime: Runtime) -> None:
        owner = (await partner_with_practice(runtime)).owner
        where = "sections.0.questions.0.choices"
        for made, message in (
            (question("single_choice", choices=["Only"]), f"{where}: at least 2"),
            (question("multiple_choice"), f"{where}: at least 1"),
            (question("single_choice", choices=["Yes", " yes "]), f"{where}: must be distinct"),
            (question("single_choice", choices=[str(n) for n in range(101)]), f"{where}: at most 100"),
            (
                question("single_choice", choices=["Yes", "n" * 201]),
                f"{where}.1: at most 200 characters",
            ),
            (question("single_choice", choices=["Yes", " "]), f"{where}.1: is required"),
            (
                question("multiple_choice", choices=["A\x00"]),
                f"{where}.0: must not contain NUL characters",
            ),
        ):
            error = await refused(runtime, owner, definition(questions=[made]))
            assert (error.message, error.field) == (message, "choices")

    async def test_options_given_to_a_kind_without_them_are_refused(self, runtime: Runtime) -> None:
        owner = (await partner_with_practice(runtime)).owner
        error = await refused(runtime, owner, definition(questions=[question("text", choices=["A", "B"])]))
        assert error.message == "sections.0.questions.0.choices: only choice questions have choices"
        error = await refused(
            runtime,
            owner,
            definition(questions=[question("single_choice", choices=["A", "B"], matrix_rows=["R"])]),
        )
        assert (
            error.message == "sections.0.questions.0.matrix_rows: only matrix questions have rows and columns"
        )
        error = await refused(
            runtime, owner, definition(questions=[question("signature", matrix_columns=["C"])])
        )
        assert error.field == "matrix_columns"

    async def test_a_matrix_needs_rows_and_two_columns_within_bounds(self, runtime: Runtime) -> None:
        owner = (await partner_with_practice(runtime)).owner
        where = "sections.0.questions.0"
        for rows, columns, message in (
            ([], ["A", "B"], f"{where}.matrix_rows: at least 1"),
            (["R"], ["A"], f"{where}.matrix_columns: at least 2"),
            ([str(n) for n in range(51)], ["A", "B"], f"{where}.matrix_rows: at most 50"),
            (["R"], [str(n) for n in range(21)], f"{where}.matrix_columns: at most 20"),
            (["R", "r"], ["A", "B"], f"{where}.matrix_rows: must be distinct"),
        ):
            made = question("matrix", matrix_rows=rows, matrix_columns=columns)
            assert (await refused(runtime, owner, definition(questions=[made]))).message == message

    async def test_counts_are_bounded(self, runtime: Runtime) -> None:
        owner = (await partner_with_practice(runtime)).owner
        one = SectionDefinition(questions=[question("text")])
        error = await refused(runtime, owner, definition(sections=[one] * 51))
        assert error.message == "sections: at most 50"
        many = SectionDefinition(questions=[question("text")] * 100)
        error = await refused(runtime, owner, definition(sections=[many] * 4))
        assert error.message == "sections: at most 300 questions in a form"
        error = await refused(runtime, owner, definition(consent_documents=[CONSENT] * 21))
        assert error.message == "consent_documents: at most 20"

    async def test_an_empty_form_or_section_is_refused(self, runtime: Runtime) -> None:
        owner = (await partner_with_practice(runtime)).owner
        error = await refused(runtime, owner, definition(sections=[]))
        assert error.message == "sections: a form holds at least one question or one consent document"
        error = await refused(runtime, owner, definition(sections=[SectionDefinition(title="Empty")]))
        assert error.message == "sections.0.questions: a section holds at least one question"
        consent_only = await create(runtime, owner, definition(sections=[], consent_documents=[CONSENT]))
        assert (consent_only.sections, len(consent_only.consent_documents)) == ([], 1)

    async def test_consent_html_is_sanitised(self, runtime: Runtime) -> None:
        owner = (await partner_with_practice(runtime)).owner
        html = (
            '<p onclick="steal()">Read <a href="javascript:alert(1)">this</a> and '
            '<a href="https://example.com/policy">that</a>.</p><script>alert(1)</script>'
            '<img src="https://tracker.example/pixel.gif"><iframe src="https://x.example"></iframe>'
            "<ul><li><strong>Yes</strong></li></ul>"
        )
        form = await create(
            runtime,
            owner,
            definition(consent_documents=[ConsentDocumentDefinition(name="Consent", html=html)]),
        )
        stored = form.consent_documents[0].html
        for unsafe in ("onclick", "javascript:", "<script", "<img", "<iframe", "alert(1)"):
            assert unsafe not in stored
        assert '<a href="https://example.com/policy" rel="noopener noreferrer">that</a>' in stored
        assert "<ul><li><strong>Yes</strong></li></ul>" in stored

    async def test_consent_documents_need_a_name_and_text_that_survives_sanitising(
        self, runtime: Runtime
    ) -> None:
        owner = (await partner_with_practice(runtime)).owner
        for document, message in (
            (ConsentDocumentDefinition(name="", html="<p>x</p>"), "consent_documents.0.name: is required"),
            (
                ConsentDocumentDefinition(name="C", html="<script>alert(1)</script><img src=x>"),
                "consent_documents.0.html: holds no text once sanitised",
            ),
            (
                ConsentDocumentDefinition(name="C", html="x" * 200_001),
                "consent_documents.0.html: at most 200000 characters",
            ),
            (
                ConsentDocumentDefinition(name="C", html="<p>\x00</p>"),
                "consent_documents.0.html: must not contain NUL characters",
            ),
        ):
            error = await refused(runtime, owner, definition(consent_documents=[document]))
            assert error.message == message

    async def test_an_owner_keeps_a_bounded_number_of_templates(
        self, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        owner = (await partner_with_practice(runtime)).owner
        monkeypatch.setattr(form_service, "MAX_FORMS_PER_OWNER", 2)
        await create(runtime, owner)
        await create(runtime, owner)
        error = await refused(runtime, owner, definition())
        assert (error.rule, error.field) == ("forms.too_many", "forms")


class TestUpdateForm:
    async def test_new_sections_replace_the_old_and_bump_the_revision(self, runtime: Runtime) -> None:
        owner = (await partner_with_practice(runtime)).owner
        form = await create(runtime, owner, definition(consent_documents=[CONSENT]))
        async with runtime.sessions() as session, session.begin():
            renamed = await form_service.update_form(
                session, owner=owner, form_id=form.form.id, changes=FormChanges(name="Renamed")
            )
        assert (renamed.form.name, renamed.form.revision) == ("Renamed", 1)
        async with runtime.sessions() as session, session.begin():
            updated = await form_service.update_form(
                session,
                owner=owner,
                form_id=str(form.form.id),
                changes=FormChanges(
                    kind="treatment_note",
                    sections=[SectionDefinition(questions=[question("long_text", text="Plan")])],
                    consent_documents=[],
                ),
            )
        assert (updated.form.kind, updated.form.revision, updated.consent_documents) == (
            "treatment_note",
            2,
            [],
        )
        async with runtime.sessions() as session:
            again = await form_service.get_form(session, owner=owner, form_id=form.form.id)
        assert [q.text for part in again.sections for q in part.questions] == ["Plan"]

    async def test_changes_are_validated_as_on_creation(self, runtime: Runtime) -> None:
        owner = (await partner_with_practice(runtime)).owner
        form = await create(runtime, owner)
        for changes, message in (
            (FormChanges(name=""), "name: is required"),
            (FormChanges(kind="Note"), "kind: must be one of questionnaire, treatment_note"),
            (
                FormChanges(sections=[]),
                "sections: a form holds at least one question or one consent document",
            ),
        ):
            async with runtime.sessions() as session, session.begin():
                with pytest.raises(InvalidInput) as error:
                    await form_service.update_form(
                        session, owner=owner, form_id=form.form.id, changes=changes
                    )
            assert error.value.message == message

    async def test_another_owners_form_reads_as_missing(self, runtime: Runtime) -> None:
        made = await partner_with_practice(runtime)
        other = await partner_with_practice(runtime)
        form = await create(runtime, made.owner)
        for owner, form_id in (
            (other.owner, str(form.form.id)),
            (FormOwner.clinic(made.clinic.id), str(form.form.id)),
            (made.owner, "not-a-guid"),
            (made.owner, "x" * 500),
        ):
            async with runtime.sessions() as session, session.begin():
                with pytest.raises(NotFound):
                    await form_service.update_form(
                        session, owner=owner, form_id=form_id, changes=FormChanges(name="Mine")
                    )
                with pytest.raises(NotFound):
                    await form_service.get_form(session, owner=owner, form_id=form_id)


class TestArchive:
    async def test_archived_forms_stay_listed_and_can_come_back(self, runtime: Runtime) -> None:
        owner = (await partner_with_practice(runtime)).owner
        form = await create(runtime, owner)
        async with runtime.sessions() as session, session.begin():
            archived = await form_service.set_form_archived(
                session, owner=owner, form_id=form.form.id, archived=True
            )
            assert archived.archived is True
            listed = await form_service.list_forms(session, owner=owner)
            assert [(row.id, row.archived) for row in listed] == [(form.form.id, True)]
            back = await form_service.set_form_archived(
                session, owner=owner, form_id=form.form.id, archived=False
            )
            assert back.archived is False

    async def test_another_owners_form_cannot_be_archived(self, runtime: Runtime) -> None:
        form = await create(runtime, (await partner_with_practice(runtime)).owner)
        other = (await partner_with_practice(runtime)).owner
        async with runtime.sessions() as session:
            with pytest.raises(NotFound):
                await form_service.set_form_archived(
                    session, owner=other, form_id=form.form.id, archived=True
                )


class TestLists:
    async def test_each_owner_sees_its_own_forms_oldest_first(self, runtime: Runtime) -> None:
        made = await partner_with_practice(runtime, external_id="ext-1")
        other = await partner_with_practice(runtime, external_id="ext-1")
        first = await create(runtime, made.owner, definition(name="First"))
        second = await create(runtime, made.owner, definition(name="Second"))
        practice_form = await create(runtime, FormOwner.clinic(made.clinic.id), definition(name="Practice"))
        await create(runtime, other.owner)
        await create(runtime, FormOwner.clinic(other.clinic.id))
        async with runtime.sessions() as session:
            masters = await form_service.list_forms(session, owner=made.owner)
            assert [row.id for row in masters] == [first.form.id, second.form.id]
            for reference in (made.clinic.practice_id, made.clinic.practice_id.lower(), "ext-1"):
                found = await form_service.list_practice_forms(
                    session, partner_id=made.partner.id, practice=reference
                )
                assert [row.id for row in found] == [practice_form.form.id]

    async def test_another_partners_practice_reads_as_missing(self, runtime: Runtime) -> None:
        made = await partner_with_practice(runtime)
        other = await partner_with_practice(runtime)
        async with runtime.sessions() as session:
            for reference in (other.clinic.practice_id, "", "\x00", "y" * 300):
                with pytest.raises(NotFound):
                    await form_service.list_practice_forms(
                        session, partner_id=made.partner.id, practice=reference
                    )

    async def test_an_owner_is_a_partner_or_a_clinic(self, runtime: Runtime) -> None:
        async with runtime.sessions() as session:
            with pytest.raises(ValueError, match="exactly one"):
                await form_service.list_forms(session, owner=FormOwner())


class TestCopyMasterForm:
    async def copy(
        self, runtime: Runtime, made: PartnerWithPractice, source: object, **values: object
    ) -> object:
        fields: dict[str, object] = {
            "partner_id": made.partner.id,
            "source_form_id": str(source),
            "destination_practice": made.clinic.practice_id,
            "copy_consent_documents": True,
        } | values
        async with runtime.sessions() as session, session.begin():
            return await form_service.copy_master_form(session, **fields)  # type: ignore[arg-type]

    async def test_copies_the_definition_with_or_without_consent_documents(self, runtime: Runtime) -> None:
        made = await partner_with_practice(runtime, external_id="p-7")
        master = await create(
            runtime,
            made.owner,
            definition(
                sections=[SectionDefinition(title="S", questions=EVERY_KIND)], consent_documents=[CONSENT]
            ),
        )
        clinic_owner = FormOwner.clinic(made.clinic.id)
        for with_consents, reference in ((True, "p-7"), (False, made.clinic.practice_id)):
            async with runtime.sessions() as session, session.begin():
                copy = await form_service.copy_master_form(
                    session,
                    partner_id=made.partner.id,
                    source_form_id=str(master.form.id).upper(),
                    destination_practice=reference,
                    copy_consent_documents=with_consents,
                )
                assert (copy.clinic_id, copy.partner_id, copy.source_form_id) == (
                    made.clinic.id,
                    None,
                    master.form.id,
                )
                contents = await form_service.get_form(session, owner=clinic_owner, form_id=copy.id)
            assert contents.form.id != master.form.id
            assert (contents.form.name, contents.form.kind) == ("Intake Form", "questionnaire")
            assert [
                (q.kind, q.text, q.required, q.choices, q.matrix_rows) for q in contents.sections[0].questions
            ] == [(q.kind, q.text, q.required, list(q.choices), list(q.matrix_rows)) for q in EVERY_KIND]
            assert [d.name for d in contents.consent_documents] == (
                ["HIPAA Release Form"] if with_consents else []
            )
        async with runtime.sessions() as session:
            assert len(await form_service.list_forms(session, owner=clinic_owner)) == 2
            assert await form_service.find_copy(
                session, clinic_id=made.clinic.id, source_form_id=master.form.id
            )

    async def test_another_partners_master_form_or_practice_reads_as_missing(self, runtime: Runtime) -> None:
        made = await partner_with_practice(runtime)
        other = await partner_with_practice(runtime)
        mine = await create(runtime, made.owner)
        theirs = await create(runtime, other.owner)
        practice_form = await create(runtime, FormOwner.clinic(made.clinic.id))
        for source, destination, field in (
            (theirs.form.id, made.clinic.practice_id, "source_form_id"),
            (practice_form.form.id, made.clinic.practice_id, "source_form_id"),
            ("nope", made.clinic.practice_id, "source_form_id"),
            (mine.form.id, other.clinic.practice_id, "destination_practice"),
            (mine.form.id, "unknown", "destination_practice"),
        ):
            with pytest.raises(NotFound) as error:
                await self.copy(runtime, made, source, destination_practice=destination)
            assert error.value.field == field

    async def test_both_ids_are_required(self, runtime: Runtime) -> None:
        made = await partner_with_practice(runtime)
        mine = await create(runtime, made.owner)
        for values, message in (
            ({"source_form_id": None}, "source_form_id: is required"),
            ({"source_form_id": " "}, "source_form_id: is required"),
            ({"destination_practice": None}, "destination_practice: is required"),
        ):
            with pytest.raises(InvalidInput) as error:
                await self.copy(runtime, made, mine.form.id, **values)
            assert error.value.message == message

    async def test_an_archived_master_form_is_not_copied(self, runtime: Runtime) -> None:
        made = await partner_with_practice(runtime)
        master = await create(runtime, made.owner)
        async with runtime.sessions() as session, session.begin():
            await form_service.set_form_archived(
                session, owner=made.owner, form_id=master.form.id, archived=True
            )
        with pytest.raises(InvalidInput) as error:
            await self.copy(runtime, made, master.form.id)
        assert error.value.rule == "forms.source_archived"

    async def test_a_consent_only_form_is_copied_with_its_consents_or_not_at_all(
        self, runtime: Runtime
    ) -> None:
        made = await partner_with_practice(runtime)
        master = await create(runtime, made.owner, definition(sections=[], consent_documents=[CONSENT]))
        with pytest.raises(InvalidInput) as error:
            await self.copy(runtime, made, master.form.id, copy_consent_documents=False)
        assert error.value.field == "copy_consent_documents"
        await self.copy(runtime, made, master.form.id, copy_consent_documents=True)

    async def test_the_practice_keeps_a_bounded_number_of_templates(
        self, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        made = await partner_with_practice(runtime)
        master = await create(runtime, made.owner)
        monkeypatch.setattr(form_service, "MAX_FORMS_PER_OWNER", 1)
        await self.copy(runtime, made, master.form.id)
        with pytest.raises(InvalidInput) as error:
            await self.copy(runtime, made, master.form.id)
        assert error.value.rule == "forms.too_many"
