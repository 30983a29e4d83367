"""The video call's signalling WebSocket: who gets in, what is relayed, and what never crashes it."""

from __future__ import annotations

import dataclasses
import secrets
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI

from clinicore.core.accounts import service as accounts_service
from clinicore.core.models import Clinic, DeskAccountKind, ExamOutcome
from clinicore.core.telehealth import lifecycle
from clinicore.core.telehealth.invites import meeting_path
from clinicore.core.telehealth.pharmacy_desk import create_pharmacy_user
from clinicore.runtime import Runtime
from clinicore.web.call import routes as call_routes
from tests.factories import Catalog, create_clinic, create_partner_pharmacy
from tests.web.call.sockets import (
    PROVIDER_COOKIE,
    CallSocket,
    Consultation,
    Refused,
    in_consultation,
    provider_cookie,
    waiting_visit,
)
from tests.web.console.pages import sign_in as console_sign_in
from tests.web.patient.pages import branded_clinic
from tests.web.provider.desk import create_desk_provider


@dataclasses.dataclass
class Room:
    app: FastAPI
    runtime: Runtime
    clinic: tuple[Clinic, Catalog]
    consultation: Consultation
    cookies: dict[str, str]

    def patient(self, origin: str | None = None) -> CallSocket:
        return CallSocket(self.app, self.consultation.patient_url, origin=origin)

    def provider(self, origin: str | None = None) -> CallSocket:
        return CallSocket(self.app, self.consultation.provider_url, cookies=self.cookies, origin=origin)


@pytest.fixture
async def room(app: FastAPI, runtime: Runtime) -> Room:
    clinic = await branded_clinic(runtime)
    provider = await create_desk_provider(runtime)
    consultation = await in_consultation(runtime, clinic, provider)
    return Room(app, runtime, clinic, consultation, await provider_cookie(app, provider))


async def refusal_code(socket: CallSocket) -> int | None:
    with pytest.raises(Refused) as refused:
        async with socket:
            pass
    return refused.value.code


class TestRelay:
    async def test_the_patient_and_the_provider_hear_each_other(self, room: Room) -> None:
        async with room.patient() as patient, room.provider() as provider:
            await patient.send_json({"type": "hello", "media": True})
            assert await provider.receive_json() == {"type": "hello", "media": True, "from": "patient"}
            await provider.send_json(
                {"type": "offer", "sdp": "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n", "call": 1}
            )
            assert await patient.receive_json() == {
                "type": "offer",
                "sdp": "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n",
                "call": 1,
                "from": "provider",
            }
            await patient.send_json({"type": "answer", "sdp": "v=0\r\n"})
            assert (await provider.receive_json())["type"] == "answer"
            candidate = {"candidate": "candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host", "sdpMid": "0"}
            await patient.send_json({"type": "candidate", "candidate": candidate})
            relayed = await provider.receive_json()
            assert relayed["candidate"]["candidate"] == candidate["candidate"]
            assert relayed["candidate"]["sdpMid"] == "0"
            await provider.send_json({"type": "chat", "text": "Can you hear me?"})
            assert await patient.receive_json() == {
                "type": "chat",
                "text": "Can you hear me?",
                "from": "provider",
            }
            await patient.send_json({"type": "chat", "text": "Yes, loud and clear."})
            assert (await provider.receive_json())["text"] == "Yes, loud and clear."

    async def test_only_declared_fields_are_relayed(self, room: Room) -> None:
        async with room.patient() as patient, room.provider() as provider:
            await patient.send_json({"type": "chat", "text": "hi", "from": "provider", "html": "<b>x</b>"})
            assert await provider.receive_json() == {"type": "chat", "text": "hi", "from": "patient"}

    async def test_the_other_side_hears_bye_when_a_socket_closes(self, room: Room) -> None:
        async with room.provider() as provider:
            async with room.patient():
                pass
            assert await provider.receive_json() == {"type": "bye", "from": "patient"}

    async def test_a_second_window_of_the_same_side_replaces_the_first(self, room: Room) -> None:
        async with room.provider() as provider, room.patient() as first, room.patient() as second:
            code, messages = await first.closed_with()
            assert code == call_routes.CLOSE_REPLACED
            assert messages == [{"type": "closed", "reason": "replaced"}]
            await second.send_json({"type": "chat", "text": "I moved to my phone"})
            assert (await provider.receive_json())["text"] == "I moved to my phone"


class TestBounds:
    @pytest.mark.parametrize(
        "frame",
        [
            "not json",
            "[]",
            '{"type": "launch"}',
            '{"type": "chat", "text": ""}',
            '{"type": "chat", "text": "   "}',
            '{"type": "chat", "text": "' + "x" * 2001 + '"}',
            '{"type": "offer"}',
            '{"type": "candidate", "candidate": {"candidate": "c", "sdpMLineIndex": -1}}',
            "[" * 60_000,
            '{"type": "hello", "media": 1e999999}',
        ],
    )
    async def test_a_malformed_message_is_answered_and_relayed_to_nobody(
        self, room: Room, frame: str
    ) -> None:
        async with room.patient() as patient, room.provider() as provider:
            await patient.send_text(frame)
            assert (await patient.receive_json())["code"] == "invalid_message"
            await patient.send_json({"type": "chat", "text": "still here"})
            assert await provider.receive_json() == {"type": "chat", "text": "still here", "from": "patient"}

    async def test_a_binary_frame_is_answered_and_relayed_to_nobody(self, room: Room) -> None:
        async with room.patient() as patient, room.provider() as provider:
            await patient.send_bytes(b"\x00\x01")
            assert (await patient.receive_json())["code"] == "invalid_message"
            await patient.send_json({"type": "bye"})
            assert await provider.receive_json() == {"type": "bye", "from": "patient"}

    async def test_a_frame_over_64_kb_closes_the_socket(self, room: Room) -> None:
        async with room.patient() as patient, room.provider() as provider:
            await patient.send_json({"type": "chat", "text": "x" * (64 * 1024)})
            code, _messages = await patient.closed_with()
            assert code == call_routes.CLOSE_TOO_BIG
            assert await provider.receive_json() == {"type": "bye", "from": "patient"}

    async def test_a_flood_of_messages_closes_the_socket(self, room: Room) -> None:
        async with room.patient() as patient, room.provider() as provider:
            for number in range(call_routes.MESSAGE_BURST + 40):
                await patient.send_json({"type": "chat", "text": f"spam {number}"})
            code, _messages = await patient.closed_with()
            assert code == call_routes.CLOSE_REFUSED
            received = []
            while (message := await provider.receive_json())["type"] == "chat":
                received.append(message)
            assert message == {"type": "bye", "from": "patient"}
            assert len(received) <= call_routes.MESSAGE_BURST + 5


class TestWhoMayJoin:
    async def test_a_missing_signature_is_refused(self, room: Room) -> None:
        url = f"{meeting_path(room.consultation.visit.meeting.id)}/call/{room.consultation.patient_exam_id}"
        assert await refusal_code(CallSocket(room.app, url)) == call_routes.CLOSE_REFUSED

    async def test_a_tampered_signature_is_refused(self, room: Room) -> None:
        url = room.consultation.patient_url
        tampered = url[:-3] + ("aaa" if not url.endswith("aaa") else "bbb")
        assert await refusal_code(CallSocket(room.app, tampered)) == call_routes.CLOSE_REFUSED

    async def test_an_expired_link_is_refused(self, room: Room) -> None:
        path = meeting_path(room.consultation.visit.meeting.id)
        expires_at = room.runtime.clock.now() - timedelta(minutes=1)
        expired = room.runtime.links.sign(path, expires_at=expires_at).removeprefix(
            room.runtime.links.base_url
        )
        base, _, query = expired.partition("?")
        url = f"{base}/call/{room.consultation.patient_exam_id}?{query}"
        assert await refusal_code(CallSocket(room.app, url)) == call_routes.CLOSE_REFUSED

    @pytest.mark.parametrize("expires", ["9" * 5000, "\u0661\u0662", "12x"])
    async def test_a_malformed_expiry_is_refused_not_a_crash(
        self, room: Room, client: httpx.AsyncClient, expires: str
    ) -> None:
        url = f"{room.consultation.patient_url}&expires={expires}"
        assert await refusal_code(CallSocket(room.app, url)) == call_routes.CLOSE_REFUSED
        status = await client.get(room.consultation.visit.at("/status"), params={"expires": expires})
        assert status.status_code == 404

    async def test_another_meetings_link_does_not_open_this_exams_call(self, room: Room) -> None:
        other = await waiting_visit(room.runtime, room.clinic)
        url = other.at(f"/call/{room.consultation.patient_exam_id}")
        assert await refusal_code(CallSocket(room.app, url)) == call_routes.CLOSE_REFUSED

    async def test_a_waiting_exam_has_no_call_yet(self, room: Room) -> None:
        waiting = await waiting_visit(room.runtime, room.clinic)
        url = waiting.at(f"/call/{waiting.patient_exams[0].id}")
        assert await refusal_code(CallSocket(room.app, url)) == call_routes.CLOSE_REFUSED

    async def test_a_decided_exam_has_no_call(self, room: Room) -> None:
        await decide(room)
        assert await refusal_code(room.patient()) == call_routes.CLOSE_REFUSED
        assert await refusal_code(room.provider()) == call_routes.CLOSE_REFUSED

    @pytest.mark.parametrize("exam_id", ["abc", "1" * 13, "-1", "0", str(2**31), "99999999999"])
    async def test_a_malformed_exam_id_is_refused(self, room: Room, exam_id: str) -> None:
        url = room.consultation.visit.at(f"/call/{exam_id}")
        assert await refusal_code(CallSocket(room.app, url)) == call_routes.CLOSE_REFUSED
        socket = CallSocket(room.app, f"/provider/exams/{exam_id}/call", cookies=room.cookies)
        assert await refusal_code(socket) == call_routes.CLOSE_REFUSED

    async def test_no_session_is_refused(self, room: Room) -> None:
        assert await refusal_code(CallSocket(room.app, room.consultation.provider_url)) == 1008
        forged = CallSocket(room.app, room.consultation.provider_url, cookies={PROVIDER_COOKIE: "x" * 43})
        assert await refusal_code(forged) == call_routes.CLOSE_REFUSED
        huge = CallSocket(room.app, room.consultation.provider_url, cookies={PROVIDER_COOKIE: "x" * 5000})
        assert await refusal_code(huge) == call_routes.CLOSE_REFUSED

    async def test_a_provider_who_did_not_take_the_exam_is_refused(self, room: Room) -> None:
        other = await create_desk_provider(room.runtime, name="Dr. Sam Ortiz")
        socket = CallSocket(
            room.app, room.consultation.provider_url, cookies=await provider_cookie(room.app, other)
        )
        assert await refusal_code(socket) == call_routes.CLOSE_REFUSED

    async def test_a_provider_not_licensed_in_the_state_is_refused(self, room: Room) -> None:
        texan = await create_desk_provider(room.runtime, states=("TX",), name="Dr. Lee Tran")
        socket = CallSocket(
            room.app, room.consultation.provider_url, cookies=await provider_cookie(room.app, texan)
        )
        assert await refusal_code(socket) == call_routes.CLOSE_REFUSED

    async def test_a_console_users_session_is_refused(self, room: Room, client: httpx.AsyncClient) -> None:
        console = await create_clinic(room.runtime)
        assert (await console_sign_in(client, console.email, console.password)).status_code == 303
        cookies = {PROVIDER_COOKIE: client.cookies["clinicore_session"]}
        socket = CallSocket(room.app, room.consultation.provider_url, cookies=cookies)
        assert await refusal_code(socket) == call_routes.CLOSE_REFUSED

    async def test_a_pharmacy_desk_session_is_refused(self, room: Room) -> None:
        clinic, catalog = room.clinic
        pharmacy = await create_partner_pharmacy(room.runtime, clinic, catalog.glp1)
        async with room.runtime.sessions() as session, session.begin():
            user = await create_pharmacy_user(
                session,
                pharmacy_id=pharmacy.pharmacy.id,
                name="Pat Pharmacist",
                email=f"pharmacist-{secrets.token_hex(4)}@pharmacy.example",
                password=secrets.token_urlsafe(16),
            )
            opened = await accounts_service.open_session(
                session, kind=DeskAccountKind.pharmacy_user, account_id=user.id
            )
        socket = CallSocket(room.app, room.consultation.provider_url, cookies={PROVIDER_COOKIE: opened.token})
        assert await refusal_code(socket) == call_routes.CLOSE_REFUSED

    async def test_a_page_of_another_site_is_refused(self, room: Room) -> None:
        assert await refusal_code(room.provider(origin="https://evil.example")) == call_routes.CLOSE_REFUSED
        assert await refusal_code(room.patient(origin="https://evil.example")) == call_routes.CLOSE_REFUSED
        async with room.provider(origin="http://testserver"):
            pass


class TestTheRoomCloses:
    async def test_when_the_exam_is_decided_both_sides_are_told_and_closed(
        self, room: Room, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(call_routes, "ROOM_CHECK_SECONDS", 0.05)
        async with room.patient() as patient, room.provider() as provider:
            await decide(room)
            for side in (patient, provider):
                code, messages = await side.closed_with()
                assert code == call_routes.CLOSE_ENDED
                assert {"type": "closed", "reason": "ended"} in messages

    async def test_a_provider_who_signs_out_leaves_the_call(
        self, room: Room, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(call_routes, "ROOM_CHECK_SECONDS", 0.05)
        async with room.patient() as patient, room.provider() as provider:
            async with room.runtime.sessions() as session, session.begin():
                signed_in = await accounts_service.signed_in(
                    session, kind=DeskAccountKind.provider, token=room.cookies[PROVIDER_COOKIE]
                )
                assert signed_in is not None
                await accounts_service.sign_out(session, signed_in=signed_in)
            code, messages = await provider.closed_with()
            assert code == call_routes.CLOSE_REFUSED
            assert {"type": "closed", "reason": "signed-out"} in messages
            assert (await patient.receive_json())["type"] == "bye"  # the exam is still in consultation


async def decide(room: Room) -> None:
    async with room.runtime.sessions() as session, session.begin():
        await lifecycle.decide(
            session,
            provider_id=room.consultation.provider.provider.id,
            patient_exam_id=room.consultation.patient_exam_id,
            outcome=ExamOutcome.approved,
            reason=None,
            links=room.runtime.links,
            clock=room.runtime.clock,
        )
