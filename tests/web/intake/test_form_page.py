"""The intake form page through HTTP, as a client's browser uses it: the password, the token, the lockout,
saving and reopening, each question kind's refusals, uploads and signatures, submitting and the redirect."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import httpx
import pytest

from clinicore.runtime import Runtime
from clinicore.web.intake import session as access_cookie
from tests.web.intake.pages import (
    PDF,
    ArrangedIntake,
    arrange_intake,
    complete_answers,
    csrf_of,
    id_upload,
    issue_token,
    post_form,
    sign_in,
    signature_field,
    stored_form,
)


@pytest.fixture
async def intake(runtime: Runtime, client: httpx.AsyncClient) -> ArrangedIntake:
    return await arrange_intake(runtime, client)


async def submit_everything(client: httpx.AsyncClient, intake: ArrangedIntake) -> httpx.Response:
    return await post_form(
        client,
        intake,
        "/submit",
        [*complete_answers(intake), signature_field(intake)],
        files=id_upload(intake),
    )


class TestOpening:
    async def test_an_unknown_intake_is_a_404_page(self, client: httpx.AsyncClient) -> None:
        for path in (f"/intake/{uuid.uuid4()}", "/intake/not-an-id", "/intake/" + "a" * 300):
            response = await client.get(path)
            assert response.status_code == 404
            assert "Form not found" in response.text

    async def test_without_access_the_page_asks_for_the_password_in_the_brand(
        self, client: httpx.AsyncClient, intake: ArrangedIntake
    ) -> None:
        page = await client.get(intake.path)
        assert page.status_code == 200
        assert 'name="password"' in page.text
        assert "Glow Medspa" in page.text
        assert "--brand: #7a3e9d" in page.text
        assert "Full name" not in page.text  # no question before the password

    async def test_pages_are_not_cached_framed_or_scripted_inline(
        self, client: httpx.AsyncClient, intake: ArrangedIntake
    ) -> None:
        page = await client.get(intake.path)
        assert page.headers["cache-control"] == "no-store"
        assert page.headers["referrer-policy"] == "no-referrer"
        assert page.headers["x-frame-options"] == "DENY"
        policy = page.headers["content-security-policy"]
        assert "script-src 'self';" in policy
        assert "frame-ancestors 'none'" in policy
        assert "<script>" not in page.text

    async def test_the_right_password_opens_the_form_with_a_cookie_scoped_to_the_intake(
        self, client: httpx.AsyncClient, intake: ArrangedIntake
    ) -> None:
        page = await client.get(intake.path)
        response = await client.post(
            intake.path, data={"csrf_token": csrf_of(page), "password": f" {intake.password} "}
        )
        assert response.status_code == 303
        cookie = response.headers["set-cookie"]
        assert f"Path={intake.path}" in cookie
        assert "HttpOnly" in cookie
        assert "SameSite=lax" in cookie.replace("Lax", "lax")
        form = await client.get(intake.path)
        assert form.status_code == 200
        assert "Full name" in form.text
        assert "As on your ID." in form.text  # help text
        assert "Tell us about you." in form.text  # section description
        assert "I allow the practice" in form.text  # the consent document

    async def test_a_wrong_password_is_refused_with_a_clear_error(
        self, client: httpx.AsyncClient, intake: ArrangedIntake
    ) -> None:
        page = await client.get(intake.path)
        response = await client.post(intake.path, data={"csrf_token": csrf_of(page), "password": "000000x"})
        assert response.status_code == 403
        assert "That password is not right" in response.text
        assert (await client.get(intake.path)).text.count('name="password"') == 1

    async def test_a_password_post_without_the_pages_token_is_refused(
        self, client: httpx.AsyncClient, intake: ArrangedIntake
    ) -> None:
        response = await client.post(intake.path, data={"csrf_token": "forged", "password": intake.password})
        assert response.status_code == 403
        assert "clinicore_intake=" not in response.headers.get("set-cookie", "")

    async def test_five_wrong_passwords_lock_the_password_but_a_token_still_opens(
        self, client: httpx.AsyncClient, intake: ArrangedIntake
    ) -> None:
        page = await client.get(intake.path)
        token = csrf_of(page)
        for _ in range(5):
            wrong = await client.post(intake.path, data={"csrf_token": token, "password": "999999x"})
            assert wrong.status_code == 403
        locked = await client.post(intake.path, data={"csrf_token": token, "password": intake.password})
        assert locked.status_code == 429
        assert "too many wrong passwords" in locked.text.lower()
        opened = await client.get(intake.path, params={"auth": await issue_token(intake)})
        assert opened.status_code == 303

    async def test_a_token_opens_the_form_and_is_dropped_from_the_address(
        self, client: httpx.AsyncClient, intake: ArrangedIntake
    ) -> None:
        response = await client.get(intake.path, params={"auth": await issue_token(intake)})
        assert response.status_code == 303
        assert response.headers["location"] == intake.path
        assert "Full name" in (await client.get(intake.path)).text

    async def test_an_unknown_token_asks_for_the_password_with_the_reason(
        self, client: httpx.AsyncClient, intake: ArrangedIntake
    ) -> None:
        response = await client.get(intake.path, params={"auth": "0" * 40})
        assert response.status_code == 403
        assert "expired or is no longer valid" in response.text
        assert 'name="password"' in response.text

    async def test_another_intakes_cookie_does_not_open_this_one(
        self, runtime: Runtime, client: httpx.AsyncClient, intake: ArrangedIntake
    ) -> None:
        other = await arrange_intake(runtime, client)
        await sign_in(client, other)
        value = client.cookies.get("clinicore_intake", path=other.path)
        assert value
        client.cookies.set("clinicore_intake", value, path=intake.path)
        page = await client.get(intake.path)
        assert 'name="password"' in page.text
        assert "Full name" not in page.text

    async def test_an_expired_cookie_asks_for_the_password_again(
        self, runtime: Runtime, client: httpx.AsyncClient, intake: ArrangedIntake
    ) -> None:
        await sign_in(client, intake)
        runtime_clock = runtime.clock
        later = runtime_clock.now() + timedelta(hours=2, seconds=1)
        value = client.cookies.get("clinicore_intake")
        assert (
            access_cookie.read(runtime.links, value, intake_id=uuid.UUID(intake.intake_id), now=later) is None
        )
        assert access_cookie.read(
            runtime.links, value, intake_id=uuid.UUID(intake.intake_id), now=runtime_clock.now()
        )


class TestSaving:
    async def test_saved_progress_shows_again_when_the_link_is_reopened(
        self, runtime: Runtime, client: httpx.AsyncClient, intake: ArrangedIntake
    ) -> None:
        await sign_in(client, intake)
        ids = intake.question_ids
        response = await post_form(
            client,
            intake,
            "/save",
            [
                (intake.field("name"), "Rita Bennett"),
                (intake.field("weight"), "150.5"),
                (intake.field("allergies"), "Latex"),
                (f"m_{ids['pain']}_1", "Often"),
            ],
        )
        assert response.status_code == 303
        assert response.headers["location"] == f"{intake.path}?saved=1"
        assert (await stored_form(runtime, intake)).status == "in_progress"
        client.cookies.clear()
        await sign_in(client, intake)
        page = await client.get(intake.path)
        assert 'value="Rita Bennett"' in page.text
        assert 'value="150.5"' in page.text
        assert re.search(r'value="Latex" checked', page.text)
        assert re.search(rf'name="m_{ids["pain"]}_1" value="Often"[^>]*checked', page.text)

    async def test_a_blank_answer_clears_a_saved_one(
        self, runtime: Runtime, client: httpx.AsyncClient, intake: ArrangedIntake
    ) -> None:
        await sign_in(client, intake)
        await post_form(client, intake, "/save", [(intake.field("name"), "Rita")])
        await post_form(client, intake, "/save", [(intake.field("name"), "  ")])
        assert intake.question_ids["name"] not in (await stored_form(runtime, intake)).answers

    async def test_a_saved_consent_signature_shows_again_and_unticking_clears_it(
        self, runtime: Runtime, client: httpx.AsyncClient, intake: ArrangedIntake
    ) -> None:
        await sign_in(client, intake)
        consent = intake.consent_id
        signed = [(f"consent_name_{consent}", "Rita Bennett"), (f"consent_agree_{consent}", "yes")]
        response = await post_form(client, intake, "/save", signed)
        assert response.status_code == 303, response.text
        assert (await stored_form(runtime, intake)).consents[consent]["signer_name"] == "Rita Bennett"
        client.cookies.clear()
        await sign_in(client, intake)
        page = await client.get(intake.path)
        assert re.search(rf'name="consent_name_{consent}"[^>]*value="Rita Bennett"', page.text)
        assert re.search(rf'name="consent_agree_{consent}" value="yes" checked', page.text)
        # the background save posts the whole form: a name without the tick is no signature any more
        response = await post_form(
            client,
            intake,
            "/save",
            [(f"consent_name_{consent}", "Rita Bennett")],
            headers={"X-Requested-With": "intake.js"},
        )
        assert response.status_code == 200 and response.json()["saved"] is True
        assert consent not in (await stored_form(runtime, intake)).consents

    async def test_a_saved_consent_is_enough_to_submit(
        self, runtime: Runtime, client: httpx.AsyncClient, intake: ArrangedIntake
    ) -> None:
        await sign_in(client, intake)
        consent = intake.consent_id
        await post_form(
            client,
            intake,
            "/save",
            [(f"consent_name_{consent}", "Rita B"), (f"consent_agree_{consent}", "yes")],
        )
        answers = [pair for pair in complete_answers(intake) if not pair[0].startswith("consent_")]
        response = await post_form(
            client, intake, "/submit", [*answers, signature_field(intake)], files=id_upload(intake)
        )
        assert response.status_code == 303, response.text
        assert (await stored_form(runtime, intake)).consents[consent]["signer_name"] == "Rita B"

    async def test_an_overlong_consent_name_is_refused_on_save_next_to_its_document(
        self, runtime: Runtime, client: httpx.AsyncClient, intake: ArrangedIntake
    ) -> None:
        await sign_in(client, intake)
        consent = intake.consent_id
        response = await post_form(
            client,
            intake,
            "/save",
            [(f"consent_name_{consent}", "R" * 300), (f"consent_agree_{consent}", "yes")],
            headers={"X-Requested-With": "intake.js"},
        )
        assert response.status_code == 400
        assert consent in response.json()["errors"]
        assert consent not in (await stored_form(runtime, intake)).consents

    async def test_saving_in_the_background_answers_json_with_the_stored_files(
        self, client: httpx.AsyncClient, intake: ArrangedIntake
    ) -> None:
        await sign_in(client, intake)
        response = await post_form(
            client,
            intake,
            "/save",
            [signature_field(intake)],
            files=id_upload(intake),
            headers={"X-Requested-With": "intake.js"},
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["saved"] is True
        assert set(body["files"]) == {intake.question_ids["photo_id"], intake.question_ids["signature"]}
        assert body["files"][intake.question_ids["photo_id"]]["name"] == "id.pdf"

    async def test_a_bad_value_is_named_next_to_its_question_and_nothing_typed_is_lost(
        self, client: httpx.AsyncClient, intake: ArrangedIntake
    ) -> None:
        await sign_in(client, intake)
        ids = intake.question_ids
        cases = {
            "weight": (intake.field("weight"), "12abc", "Must be a number"),
            "birth": (intake.field("birth"), "2026-02-30", "Must be a date"),
            "smoke": (intake.field("smoke"), "Sometimes", "Must be one of the choices"),
            "allergies": (intake.field("allergies"), "Cats", "Must be a list of the choices"),
            "pain": (f"m_{ids['pain']}_0", "Always", "must be one of the columns"),
        }
        for name, (field, value, message) in cases.items():
            response = await post_form(
                client, intake, "/save", [(field, value), (intake.field("name"), "Rita Bennett")]
            )
            assert response.status_code == 400, name
            assert f'data-testid="error-{ids[name]}"' in response.text
            assert message in response.text, name
            assert 'value="Rita Bennett"' in response.text

    async def test_a_huge_number_or_text_is_refused_not_a_500(
        self, client: httpx.AsyncClient, intake: ArrangedIntake
    ) -> None:
        await sign_in(client, intake)
        for name, value in (("weight", "9" * 5000), ("name", "x" * 5000), ("name", "nul\x00here")):
            response = await post_form(client, intake, "/save", [(intake.field(name), value)])
            assert response.status_code == 400, (name, response.text[:300])
            assert f'data-testid="error-{intake.question_ids[name]}"' in response.text

    async def test_a_body_that_is_not_utf8_is_not_a_500(
        self, client: httpx.AsyncClient, intake: ArrangedIntake
    ) -> None:
        await sign_in(client, intake)
        token = csrf_of(await client.get(intake.path))
        body = f"csrf_token={token}&{intake.field('name')}=".encode() + b"\xff\xfe\xc3"
        response = await client.post(
            intake.at("/save"), content=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
        )
        assert response.status_code in (303, 400)

    async def test_a_post_without_the_pages_csrf_token_is_refused(
        self, runtime: Runtime, client: httpx.AsyncClient, intake: ArrangedIntake
    ) -> None:
        await sign_in(client, intake)
        response = await client.post(
            intake.at("/save"), data={"csrf_token": "forged", intake.field("name"): "Mallory"}
        )
        assert response.status_code == 403
        assert intake.question_ids["name"] not in (await stored_form(runtime, intake)).answers

    async def test_a_post_without_access_goes_back_to_the_password_page(
        self, runtime: Runtime, client: httpx.AsyncClient, intake: ArrangedIntake
    ) -> None:
        response = await client.post(intake.at("/save"), data={intake.field("name"): "Mallory"})
        assert response.status_code == 303
        assert response.headers["location"] == intake.path
        assert intake.question_ids["name"] not in (await stored_form(runtime, intake)).answers


class TestFiles:
    async def test_an_upload_of_a_type_not_accepted_is_refused_next_to_its_question(
        self, client: httpx.AsyncClient, intake: ArrangedIntake
    ) -> None:
        await sign_in(client, intake)
        response = await post_form(
            client, intake, "/save", [], files=id_upload(intake, b"MZ\x90\x00 an executable", "id.exe")
        )
        assert response.status_code == 400
        assert f'data-testid="error-{intake.question_ids["photo_id"]}"' in response.text
        assert "Must be PDF, PNG, JPEG" in response.text

    async def test_an_upload_too_large_is_refused(
        self, runtime: Runtime, client: httpx.AsyncClient, intake: ArrangedIntake
    ) -> None:
        await sign_in(client, intake)
        too_large = PDF + b"0" * runtime.settings.max_upload_bytes
        response = await post_form(client, intake, "/save", [], files=id_upload(intake, too_large))
        assert response.status_code in (400, 413)
        assert "larger than" in response.text
        assert not (await stored_form(runtime, intake)).files

    async def test_a_signature_that_is_not_a_png_is_refused(
        self, client: httpx.AsyncClient, intake: ArrangedIntake
    ) -> None:
        await sign_in(client, intake)
        response = await post_form(client, intake, "/save", [signature_field(intake, PDF)])
        assert response.status_code == 400
        assert "A signature must be a PNG image" in response.text
        garbled = (signature_field(intake)[0], "data:image/png;base64,@@not base64@@")
        response = await post_form(client, intake, "/save", [garbled])
        assert response.status_code == 400
        assert "draw it again" in response.text

    async def test_a_stored_file_is_kept_when_the_page_is_reopened(
        self, runtime: Runtime, client: httpx.AsyncClient, intake: ArrangedIntake
    ) -> None:
        await sign_in(client, intake)
        await post_form(client, intake, "/save", [signature_field(intake)], files=id_upload(intake))
        stored = await stored_form(runtime, intake)
        assert {view.content_type for view in stored.files} == {"application/pdf", "image/png"}
        page = await client.get(intake.path)
        assert "Uploaded: id.pdf" in page.text
        assert "Your signature is saved" in page.text


class TestSubmitting:
    async def test_missing_answers_and_consents_are_marked_and_what_was_typed_stays(
        self, runtime: Runtime, client: httpx.AsyncClient, intake: ArrangedIntake
    ) -> None:
        await sign_in(client, intake)
        response = await post_form(client, intake, "/submit", [(intake.field("name"), "Rita Bennett")])
        assert response.status_code == 400
        for name in ("weight", "birth", "smoke", "pain", "photo_id", "signature"):
            assert f'data-testid="error-{intake.question_ids[name]}"' in response.text, name
        assert f'data-testid="error-{intake.question_ids["name"]}"' not in response.text
        assert f'data-testid="error-{intake.consent_id}"' in response.text
        assert "This question needs an answer." in response.text
        assert (
            "Still to answer or sign: &#34;Weight (lb)&#34;" in response.text
        )  # the server's message on top
        assert 'value="Rita Bennett"' in response.text
        stored = await stored_form(runtime, intake)
        assert stored.status != "submitted"
        assert stored.answers[intake.question_ids["name"]] == "Rita Bennett"  # kept for the next visit

    async def test_a_consent_named_but_not_agreed_is_not_signed(
        self, client: httpx.AsyncClient, intake: ArrangedIntake
    ) -> None:
        await sign_in(client, intake)
        fields = [pair for pair in complete_answers(intake) if not pair[0].startswith("consent_agree_")]
        response = await post_form(
            client, intake, "/submit", [*fields, signature_field(intake)], files=id_upload(intake)
        )
        assert response.status_code == 400
        assert f'data-testid="error-{intake.consent_id}"' in response.text
        assert 'value="Rita Bennett"' in response.text

    async def test_submitting_everything_completes_the_intake_and_shows_thanks(
        self, runtime: Runtime, client: httpx.AsyncClient, intake: ArrangedIntake
    ) -> None:
        await sign_in(client, intake)
        response = await submit_everything(client, intake)
        assert response.status_code == 303, response.text
        assert response.headers["location"] == intake.path
        thanks = await client.get(intake.path)
        assert "Thank you" in thanks.text
        assert "Rita Bennett" not in thanks.text  # no answer is shown again
        stored = await stored_form(runtime, intake)
        assert stored.status == "submitted"
        assert stored.submitted_at is not None
        ids = intake.question_ids
        assert stored.answers[ids["weight"]] == "150.5"
        assert stored.answers[ids["allergies"]] == ["Latex", "Nuts"]
        assert stored.answers[ids["pain"]] == {"Headaches": "Never", "Back pain": "Often"}
        assert stored.consents[intake.consent_id]["signer_name"] == "Rita Bennett"

    async def test_submitting_twice_changes_nothing(
        self, runtime: Runtime, client: httpx.AsyncClient, intake: ArrangedIntake
    ) -> None:
        await sign_in(client, intake)
        token = csrf_of(await client.get(intake.path))
        assert (await submit_everything(client, intake)).status_code == 303
        again = await client.post(
            intake.at("/submit"), data={"csrf_token": token, intake.field("name"): "Mallory"}
        )
        assert again.status_code == 303
        assert (await stored_form(runtime, intake)).answers[intake.question_ids["name"]] == "Rita Bennett"
        saved = await client.post(
            intake.at("/save"), data={"csrf_token": token, intake.field("name"): "Mallory"}
        )
        assert saved.status_code == 303
        assert "Thank you" in (await client.get(intake.path)).text

    async def test_a_submitted_intake_shows_only_thanks_even_with_the_password(
        self, client: httpx.AsyncClient, intake: ArrangedIntake
    ) -> None:
        await sign_in(client, intake)
        await submit_everything(client, intake)
        client.cookies.clear()
        page = await client.get(intake.path)
        assert "Thank you" in page.text
        assert 'name="password"' not in page.text

    async def test_an_allowed_redirect_is_followed_after_submitting(
        self, client: httpx.AsyncClient, intake: ArrangedIntake
    ) -> None:
        landing = "http://127.0.0.1:9999/done?form=1"
        await sign_in(client, intake, redirect=landing)
        assert (
            "form-action 'self' http://127.0.0.1:9999"
            in (await client.get(intake.path)).headers["content-security-policy"]
        )
        response = await submit_everything(client, intake)
        assert response.status_code == 303
        assert response.headers["location"] == landing

    async def test_a_redirect_to_a_host_not_allowed_stays_on_our_thank_you_page(
        self, client: httpx.AsyncClient, intake: ArrangedIntake
    ) -> None:
        await sign_in(client, intake, redirect="https://evil.example/phish")
        response = await submit_everything(client, intake)
        assert response.status_code == 303
        assert response.headers["location"] == intake.path
        assert "Thank you" in (await client.get(intake.path)).text

    async def test_the_redirect_comes_with_a_token_link_too(
        self, client: httpx.AsyncClient, intake: ArrangedIntake
    ) -> None:
        landing = "http://127.0.0.1:9999/back"
        opened = await client.get(
            intake.path, params={"auth": await issue_token(intake), "redirect": landing}
        )
        assert opened.status_code == 303
        response = await submit_everything(client, intake)
        assert response.headers["location"] == landing


class TestAccessCookie:
    def test_a_cookie_whose_redirect_was_changed_opens_nothing(self, runtime: Runtime) -> None:
        intake_id = uuid.uuid4()
        now = runtime.clock.now()
        value = access_cookie.issue(
            runtime.links, intake_id=intake_id, now=now, redirect="http://127.0.0.1/x"
        )
        access = access_cookie.read(runtime.links, value, intake_id=intake_id, now=now)
        assert access is not None and access.redirect == "http://127.0.0.1/x"
        nonce, expires, _redirect, signature = value.split(".")
        forged = f"{nonce}.{expires}.aHR0cHM6Ly9ldmlsLmV4YW1wbGU.{signature}"  # https://evil.example
        assert access_cookie.read(runtime.links, forged, intake_id=intake_id, now=now) is None
        longer = f"{nonce}.{int(expires) + 86400}.{_redirect}.{signature}"
        assert access_cookie.read(runtime.links, longer, intake_id=intake_id, now=now) is None
        assert access_cookie.read(runtime.links, "a.b.c", intake_id=intake_id, now=now) is None
