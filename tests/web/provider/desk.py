"""Driving the provider desk through HTTP as a browser would, and arranging what it shows."""

from __future__ import annotations

import dataclasses
import hashlib
import secrets
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date
from typing import Any

import httpx
from fastapi import FastAPI

from clinicore.core.models import Clinic, ExamAttachment, Provider, StoredFile
from clinicore.core.telehealth import lifecycle, providers
from clinicore.runtime import Runtime
from tests.factories import ArrangedMeeting, answer_all, create_meeting
from tests.support import remember_secret
from tests.web.console.pages import csrf_token

# The smallest valid PNG: a 1x1 transparent pixel.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)
SHIPPING = {
    "shipping_address_line_1": "1 Main St",
    "shipping_city": "Albany",
    "shipping_state": "NY",
    "shipping_zip_code": "12207",
}


@dataclasses.dataclass
class DeskProvider:
    provider: Provider
    email: str
    password: str


async def create_desk_provider(
    runtime: Runtime,
    *,
    states: tuple[str, ...] = ("NY", "CA"),
    director: bool = False,
    expires_on: date | None = None,
    name: str = "Dr. Ana Rivera",
) -> DeskProvider:
    email = f"provider-{secrets.token_hex(4)}@desk.example"
    password = remember_secret(secrets.token_urlsafe(16))
    async with runtime.sessions() as session, session.begin():
        provider = await providers.create_provider(
            session,
            name=name,
            states=states,
            email=email,
            password=password,
            credentials="MD",
            is_medical_director=director,
            license_numbers={state: f"{state}-{secrets.randbelow(10**6):06d}" for state in states},
            licenses_expire_on=expires_on,
            clock=runtime.clock,
        )
    return DeskProvider(provider, email, password)


async def sign_in(client: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    page = await client.get("/provider/sign-in")
    return await client.post(
        "/provider/sign-in",
        data={"email": email, "password": password, "csrf_token": csrf_token(page.text), "next": "/provider"},
    )


async def desk_csrf(client: httpx.AsyncClient, path: str = "/provider") -> str:
    page = await client.get(path)
    assert page.status_code == 200, page.text
    return csrf_token(page.text)


@asynccontextmanager
async def browser(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """Another browser: its own cookies and its own address."""
    address = f"127.{secrets.randbelow(250) + 1}.{secrets.randbelow(250) + 1}.{secrets.randbelow(250) + 1}"
    transport = httpx.ASGITransport(app=app, client=(address, 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


async def waiting_exam(
    runtime: Runtime, clinic: Clinic, exam: object, *, tele_state: str = "NY", **meeting: Any
) -> ArrangedMeeting:
    created = await create_meeting(runtime, clinic, [exam], tele_state=tele_state, **meeting)  # type: ignore[list-item]
    await answer_all(runtime, created.patient_exam)
    async with runtime.sessions() as session, session.begin():
        await lifecycle.join_waiting_room(
            session,
            meeting_id=created.meeting.id,
            patient_exam_id=created.patient_exam.id,
            clock=runtime.clock,
        )
    return created


async def attach_png(runtime: Runtime, created: ArrangedMeeting, *, label: str = "ID") -> uuid.UUID:
    patient_exam = created.patient_exam
    key = f"{patient_exam.clinic_id}/{uuid.uuid4()}.png"
    await runtime.storage.put(key, PNG)
    async with runtime.sessions() as session, session.begin():
        stored = StoredFile(
            clinic_id=patient_exam.clinic_id,
            storage_key=key,
            content_type="image/png",
            size_bytes=len(PNG),
            sha256=hashlib.sha256(PNG).hexdigest(),
            original_name="id.png",
            created_at=runtime.clock.now(),
        )
        session.add(stored)
        await session.flush()
        attachment = ExamAttachment(
            clinic_id=patient_exam.clinic_id,
            patient_exam_id=patient_exam.id,
            label=label,
            file_id=stored.id,
            created_at=runtime.clock.now(),
        )
        session.add(attachment)
        await session.flush()
        return attachment.id
