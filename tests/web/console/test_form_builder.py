"""The practice's forms in the console: the form builder (new, edit), the list, the view, archiving,
through HTTP as a browser without JavaScript posts them; plus the builder's draft rules."""

from __future__ import annotations

import uuid

import httpx

from clinicore.core.forms import service as form_service
from clinicore.core.forms.schemas import (
    ConsentDocumentDefinition,
    FormContents,
    FormDefinition,
    FormOwner,
    QuestionDefinition,
    SectionDefinition,
)
from clinicore.core.models import Clinic
from clinicore.runtime import Runtime
from clinicore.web.form_builder.draft import (
    BuilderAction,
    FormDraft,
    QuestionDraft,
    SectionDraft,
    apply_action,
    definition_of,
    draft_from_post,
    error_field,
    read_action,
)
from tests.factories import create_clinic
from tests.web.console.pages import csrf_token, page_csrf, sign_in
from tests.web.console.practice_users import practice_with_user

SIMPLE_FORM = {
    "name": "New patient intake",
    "kind": "questionnaire",
    "sections.0.title": "About you",
    "sections.0.description": "Tell us about yourself",
    "sections.0.questions.0.kind": "text",
    "sections.0.questions.0.text": "Your name",
    "sections.0.questions.0.required": "on",
    "sections.0.questions.1.kind": "single_choice",
    "sections.0.questions.1.text": "Smoker?",
    "sections.0.questions.1.choices": "Yes\nNo\n\n",
    "consent_documents.0.name": "HIPAA Release",
    "consent_documents.0.html": "<p>I consent.</p><script>alert(1)</script>",
}


async def new_form(client: httpx.AsyncClient, fields: dict[str, str]) -> httpx.Response:
    token = await page_csrf(client, "/console/forms/new")
    return await client.post("/console/forms/new", data=fields | {"csrf_token": token})


async def stored(runtime: Runtime, clinic: Clinic, form_id: str) -> FormContents:
    async with runtime.sessions() as session:
        return await form_service.get_form(session, owner=FormOwner.clinic(clinic.id), form_id=form_id)


def form_id_of(response: httpx.Response) -> str:
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert location.startswith("/console/forms/")
    return location.removeprefix("/console/forms/").split("?")[0]


async def make_form(runtime: Runtime, clinic: Clinic, name: str = "Stored form") -> FormContents:
    async with runtime.sessions() as session, session.begin():
        return await form_service.create_form(
            session,
            owner=FormOwner.clinic(clinic.id),
            definition=FormDefinition(
                name=name,
                kind="treatment_note",
                sections=[
                    SectionDefinition(
                        title="Visit",
                        questions=[
                            QuestionDefinition(kind="long_text", text="Notes"),
                            QuestionDefinition(
                                kind="matrix",
                                text="Pain",
                                matrix_rows=["Back", "Neck"],
                                matrix_columns=["None", "Some", "A lot"],
                            ),
                        ],
                    )
                ],
            ),
        )


class TestCreateForm:
    async def test_a_form_with_a_section_questions_and_a_consent_document_is_created_and_shown(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        arranged = await create_clinic(runtime)
        await sign_in(client, arranged.email, arranged.password)
        form_id = form_id_of(await new_form(client, SIMPLE_FORM))
        contents = await stored(runtime, arranged.clinic, form_id)
        assert contents.form.name == "New patient intake"
        assert contents.sections[0].section.title == "About you"
        assert [(q.kind, q.text, q.required) for q in contents.sections[0].questions] == [
            ("text", "Your name", True),
            ("single_choice", "Smoker?", False),
        ]
        assert contents.sections[0].questions[1].choices == ["Yes", "No"]
        assert contents.consent_documents[0].html == "<p>I consent.</p>"  # sanitised by the core
        page = await client.get(f"/console/forms/{form_id}?notice=created")
        assert page.status_code == 200
        assert "Form created." in page.text
        assert "Smoker?" in page.text and "HIPAA Release" in page.text
        assert "<script>" not in page.text.split("consent-preview", 1)[1]

    async def test_the_list_shows_name_type_and_archived(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        arranged = await create_clinic(runtime)
        made = await make_form(runtime, arranged.clinic, name="Follow-up note")
        await sign_in(client, arranged.email, arranged.password)
        page = await client.get("/console/forms")
        assert page.status_code == 200
        row = page.text.split(f'data-form="{made.form.id}"', 1)[1].split("</tr>", 1)[0]
        assert "Follow-up note" in row and "Treatment note" in row and "Archived" not in row

    async def test_a_refusal_shows_the_core_message_beside_the_field_and_keeps_what_was_typed(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        arranged = await create_clinic(runtime)
        await sign_in(client, arranged.email, arranged.password)
        fields = SIMPLE_FORM | {"sections.0.questions.1.choices": "Yes"}  # a single choice needs two
        response = await new_form(client, fields)
        assert response.status_code == 400
        assert 'data-error-for="sections.0.questions.1.choices"' in response.text
        assert "sections.0.questions.1.choices: at least 2" in response.text
        assert 'value="New patient intake"' in response.text
        assert "About you" in response.text and "Your name" in response.text
        async with runtime.sessions() as session:
            assert await form_service.list_forms(session, owner=FormOwner.clinic(arranged.clinic.id)) == []

    async def test_a_blank_name_and_a_question_without_text_are_refused(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        arranged = await create_clinic(runtime)
        await sign_in(client, arranged.email, arranged.password)
        blank_name = await new_form(client, SIMPLE_FORM | {"name": "  "})
        assert blank_name.status_code == 400
        assert 'data-error-for="name"' in blank_name.text
        no_text = await new_form(client, SIMPLE_FORM | {"sections.0.questions.0.text": ""})
        assert no_text.status_code == 400
        assert "sections.0.questions.0.text: is required" in no_text.text

    async def test_options_on_a_kind_without_them_are_refused_not_dropped(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        arranged = await create_clinic(runtime)
        await sign_in(client, arranged.email, arranged.password)
        response = await new_form(client, SIMPLE_FORM | {"sections.0.questions.0.choices": "A\nB"})
        assert response.status_code == 400
        assert "only choice questions have choices" in response.text

    async def test_unknown_kinds_a_nul_and_a_consent_without_text_are_refused_never_a_500(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        arranged = await create_clinic(runtime)
        await sign_in(client, arranged.email, arranged.password)
        for fields, expected in (
            ({"kind": "survey"}, "kind: must be one of"),
            ({"sections.0.questions.0.kind": "essay"}, "sections.0.questions.0.kind: must be one of"),
            ({"sections.0.questions.0.text": "a\x00b"}, "must not contain NUL"),
            ({"consent_documents.0.html": "<script>x</script>"}, "holds no text once sanitised"),
            ({"sections.0.questions.0.text": "x" * 1001}, "at most 1000 characters"),
        ):
            response = await new_form(client, SIMPLE_FORM | fields)
            assert response.status_code == 400, fields
            assert expected in response.text, fields

    async def test_an_empty_post_is_refused_with_the_core_message(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        arranged = await create_clinic(runtime)
        await sign_in(client, arranged.email, arranged.password)
        response = await new_form(client, {})
        assert response.status_code == 400
        assert "is required" in response.text

    async def test_a_post_without_the_csrf_token_is_refused_and_saves_nothing(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        arranged = await create_clinic(runtime)
        await sign_in(client, arranged.email, arranged.password)
        response = await client.post("/console/forms/new", data=SIMPLE_FORM)
        assert response.status_code == 403
        async with runtime.sessions() as session:
            assert await form_service.list_forms(session, owner=FormOwner.clinic(arranged.clinic.id)) == []

    async def test_a_body_that_is_not_a_form_or_too_many_fields_is_refused(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        arranged = await create_clinic(runtime)
        await sign_in(client, arranged.email, arranged.password)
        as_json = await client.post("/console/forms/new", json=SIMPLE_FORM)
        assert as_json.status_code == 415
        token = await page_csrf(client, "/console/forms/new")
        crowded = {f"junk{number}": "" for number in range(5000)} | {"csrf_token": token}
        too_many = await client.post("/console/forms/new", data=crowded)
        assert too_many.status_code == 413

    async def test_signing_in_is_required(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/console/forms/new")
        assert response.status_code == 303
        assert response.headers["location"].startswith("/login")


class TestBuilderActions:
    async def test_adding_removing_and_moving_without_javascript_keeps_the_draft_and_saves_nothing(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        arranged = await create_clinic(runtime)
        await sign_in(client, arranged.email, arranged.password)
        token = await page_csrf(client, "/console/forms/new")
        moved = await client.post(
            "/console/forms/new",
            data=SIMPLE_FORM | {"csrf_token": token, "builder_action": "move_question_up:0:1"},
        )
        assert moved.status_code == 200
        assert moved.text.index("Smoker?") < moved.text.index("Your name")
        assert 'name="sections.0.questions.0.text" data-field="text" value="Smoker?"' in moved.text
        added = await client.post(
            "/console/forms/new",
            data=SIMPLE_FORM | {"csrf_token": csrf_token(moved.text), "builder_action": "add_section"},
        )
        assert 'name="sections.1.questions.0.text"' in added.text
        removed = await client.post(
            "/console/forms/new",
            data=SIMPLE_FORM | {"csrf_token": token, "builder_action": "remove_consent:0"},
        )
        assert 'name="consent_documents.0.name"' not in removed.text
        async with runtime.sessions() as session:
            assert await form_service.list_forms(session, owner=FormOwner.clinic(arranged.clinic.id)) == []

    def test_actions_read_and_apply(self) -> None:
        draft = FormDraft(
            name="x",
            sections=[
                SectionDraft(title="A", questions=[QuestionDraft(text="1"), QuestionDraft(text="2")]),
                SectionDraft(title="B", questions=[QuestionDraft(text="3")]),
            ],
        )
        for raw in ("move_section_down:0", "add_question:0", "remove_question:1:0", "add_consent"):
            action = read_action(raw)
            assert action is not None
            apply_action(draft, action)
        assert [section.title for section in draft.sections] == ["B", "A"]
        assert [q.text for q in draft.sections[0].questions] == ["3", ""]
        assert [q.text for q in draft.sections[1].questions] == ["2"]
        assert len(draft.consent_documents) == 1
        assert read_action("save") is None and read_action("add_question:99999") is None
        apply_action(draft, BuilderAction("remove_section", 7))  # a stale index changes nothing
        assert len(draft.sections) == 2

    def test_adding_past_the_core_limit_says_so(self) -> None:
        draft = FormDraft(sections=[SectionDraft(questions=[QuestionDraft()]) for _ in range(50)])
        assert apply_action(draft, BuilderAction("add_section")) == "sections: at most 50"
        assert len(draft.sections) == 50

    def test_the_post_is_read_in_index_order_and_blank_option_lines_are_dropped(self) -> None:
        draft = draft_from_post(
            {
                "name": "n",
                "kind": "questionnaire",
                "sections.7.questions.3.text": "later",
                "sections.7.questions.1.text": "first",
                "sections.2.questions.0.text": "top",
                "sections.2.questions.0.kind": "multiple_choice",
                "sections.2.questions.0.choices": " I agree \n\n",
                "unrelated": "ignored",
            }
        )
        assert [[q.text for q in s.questions] for s in draft.sections] == [["top"], ["first", "later"]]
        assert definition_of(draft).sections[0].questions[0].choices == ["I agree"]

    def test_a_message_names_its_field(self) -> None:
        assert (
            error_field("sections.1.questions.0.choices.2: is required") == "sections.1.questions.0.choices"
        )
        assert error_field("name: is required") == "name"
        assert error_field("no path here") == ""


class TestEditForm:
    async def test_the_builder_opens_with_the_stored_form_and_saving_replaces_it(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        arranged = await create_clinic(runtime)
        made = await make_form(runtime, arranged.clinic)
        await sign_in(client, arranged.email, arranged.password)
        page = await client.get(f"/console/forms/{made.form.id}/edit")
        assert page.status_code == 200
        assert 'value="Stored form"' in page.text
        assert "Back\nNeck</textarea>" in page.text
        fields = {
            "csrf_token": csrf_token(page.text),
            "name": "Renamed",
            "kind": "questionnaire",
            "sections.0.title": "Only",
            "sections.0.questions.0.kind": "date",
            "sections.0.questions.0.text": "When?",
        }
        saved = await client.post(f"/console/forms/{made.form.id}/edit", data=fields)
        assert saved.status_code == 303
        assert saved.headers["location"] == f"/console/forms/{made.form.id}?notice=saved"
        contents = await stored(runtime, arranged.clinic, str(made.form.id))
        assert (contents.form.name, contents.form.kind, contents.form.revision) == (
            "Renamed",
            "questionnaire",
            2,
        )
        assert [q.text for q in contents.sections[0].questions] == ["When?"]

    async def test_a_refused_edit_changes_nothing(self, client: httpx.AsyncClient, runtime: Runtime) -> None:
        arranged = await create_clinic(runtime)
        made = await make_form(runtime, arranged.clinic)
        await sign_in(client, arranged.email, arranged.password)
        token = await page_csrf(client, f"/console/forms/{made.form.id}/edit")
        response = await client.post(
            f"/console/forms/{made.form.id}/edit",
            data={"csrf_token": token, "name": "Renamed", "kind": "questionnaire"},
        )
        assert response.status_code == 400
        assert "a form holds at least one question or one consent document" in response.text
        contents = await stored(runtime, arranged.clinic, str(made.form.id))
        assert contents.form.name == "Stored form" and contents.form.revision == 1


class TestArchive:
    async def test_archiving_and_unarchiving(self, client: httpx.AsyncClient, runtime: Runtime) -> None:
        arranged = await create_clinic(runtime)
        made = await make_form(runtime, arranged.clinic)
        await sign_in(client, arranged.email, arranged.password)
        token = await page_csrf(client, f"/console/forms/{made.form.id}")
        archived = await client.post(f"/console/forms/{made.form.id}/archive", data={"csrf_token": token})
        assert archived.status_code == 303
        assert (await stored(runtime, arranged.clinic, str(made.form.id))).form.archived
        listed = await client.get("/console/forms")
        assert "Archived" in listed.text.split(f'data-form="{made.form.id}"', 1)[1].split("</tr>", 1)[0]
        await client.post(f"/console/forms/{made.form.id}/unarchive", data={"csrf_token": token})
        assert not (await stored(runtime, arranged.clinic, str(made.form.id))).form.archived


class TestOtherOwners:
    async def test_another_clinics_form_and_unknown_ids_are_the_404_page(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        mine, theirs = await create_clinic(runtime), await create_clinic(runtime)
        their_form = await make_form(runtime, theirs.clinic, name="Their secret form")
        await sign_in(client, mine.email, mine.password)
        token = await page_csrf(client, "/console/forms")
        for path in (f"/console/forms/{their_form.form.id}", f"/console/forms/{their_form.form.id}/edit"):
            response = await client.get(path)
            assert response.status_code == 404
            assert "Their secret form" not in response.text
        for action in ("archive", "unarchive", "edit"):
            response = await client.post(
                f"/console/forms/{their_form.form.id}/{action}", data=SIMPLE_FORM | {"csrf_token": token}
            )
            assert response.status_code == 404
        for unknown in (str(uuid.uuid4()), "not-an-id", "x" * 300):
            assert (await client.get(f"/console/forms/{unknown}")).status_code == 404
        after = await stored(runtime, theirs.clinic, str(their_form.form.id))
        assert after.form.name == "Their secret form" and not after.form.archived

    async def test_a_copy_of_a_master_form_names_it_and_the_master_form_itself_is_not_reachable(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        practice = await practice_with_user(runtime)
        async with runtime.sessions() as session, session.begin():
            master = await form_service.create_form(
                session,
                owner=FormOwner.partner(practice.partner_id),
                definition=FormDefinition(
                    name="Master intake",
                    kind="questionnaire",
                    sections=[SectionDefinition(questions=[QuestionDefinition(kind="text", text="Q")])],
                    consent_documents=[ConsentDocumentDefinition(name="C", html="<p>c</p>")],
                ),
            )
            copy = await form_service.copy_master_form(
                session,
                partner_id=practice.partner_id,
                source_form_id=str(master.form.id),
                destination_practice=practice.clinic.practice_id,
                copy_consent_documents=False,
            )
        await sign_in(client, practice.email, practice.password)
        listed = await client.get("/console/forms")
        assert "Master intake" in listed.text.split(f'data-form="{copy.id}"', 1)[1].split("</tr>", 1)[0]
        assert f'data-form="{master.form.id}"' not in listed.text
        assert "Copied from" in (await client.get(f"/console/forms/{copy.id}")).text
        assert (await client.get(f"/console/forms/{master.form.id}")).status_code == 404


class TestEveryKind:
    async def test_every_question_kind_is_built_and_shown_again_in_the_builder(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        arranged = await create_clinic(runtime)
        await sign_in(client, arranged.email, arranged.password)
        kinds = ["text", "long_text", "number", "date", "single_choice", "multiple_choice", "matrix"]
        kinds += ["file_upload", "signature"]
        fields = {"name": "Every kind", "kind": "treatment_note"}
        for number, kind in enumerate(kinds):
            at = f"sections.{number // 5}.questions.{number % 5}."
            fields |= {f"{at}kind": kind, f"{at}text": f"Question {kind}"}
        fields |= {
            "sections.0.questions.4.choices": "Yes\nNo",
            "sections.1.questions.0.choices": "I agree",
            "sections.1.questions.1.matrix_rows": "Sleep\nAppetite",
            "sections.1.questions.1.matrix_columns": "Never\nSometimes\nOften",
        }
        form_id = form_id_of(await new_form(client, fields))
        contents = await stored(runtime, arranged.clinic, form_id)
        assert [q.kind for part in contents.sections for q in part.questions] == kinds
        assert contents.form.kind == "treatment_note"
        assert contents.sections[1].questions[1].matrix_columns == ["Never", "Sometimes", "Often"]
        builder = await client.get(f"/console/forms/{form_id}/edit")
        assert 'name="sections.1.questions.3.kind"' in builder.text
        assert "Sleep\nAppetite</textarea>" in builder.text
        assert '<option value="signature" selected>' in builder.text
