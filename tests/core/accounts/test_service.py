"""Desk accounts: passwords, sign-in with throttling, sessions that expire and end at sign-out."""

from __future__ import annotations

import dataclasses
import secrets
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from clinicore.core.accounts import service as accounts_service
from clinicore.core.accounts.service import OpenedDeskSession, SignInThrottle
from clinicore.core.models import DeskAccountKind, DeskSession, Provider
from clinicore.core.telehealth import providers
from clinicore.kit.clock import FrozenClock
from clinicore.kit.crypto import sha256_hex
from clinicore.kit.errors import InvalidInput, RateLimited, Unauthorized
from clinicore.kit.rate_limit import RateLimiter
from clinicore.runtime import Runtime
from tests.support import remember_secret

START = datetime(2031, 3, 3, 15, 0, tzinfo=UTC)
PROVIDER = DeskAccountKind.provider


@dataclasses.dataclass
class Arranged:
    runtime: Runtime
    clock: FrozenClock
    provider: Provider
    email: str
    password: str
    throttle: SignInThrottle


@pytest.fixture
async def arranged(runtime: Runtime) -> Arranged:
    clock = FrozenClock(START)
    frozen = dataclasses.replace(runtime, clock=clock)
    email = f"provider-{secrets.token_hex(4)}@desk.example"
    password = remember_secret(secrets.token_urlsafe(16))
    async with frozen.sessions() as session, session.begin():
        provider = await providers.create_provider(
            session, name="Dr. Lee", states=("NY",), email=email, clock=clock
        )
        await accounts_service.set_password(
            session, kind=PROVIDER, account_id=provider.id, password=password, clock=clock
        )
    return Arranged(frozen, clock, provider, email, password, SignInThrottle(RateLimiter(), 3, 900))


async def sign_in(
    arranged: Arranged, *, password: str | None = None, address: str = "10.0.0.1", email: str | None = None
) -> OpenedDeskSession:
    async with arranged.runtime.sessions() as session, session.begin():
        return await accounts_service.sign_in(
            session,
            kind=PROVIDER,
            email=email or arranged.email,
            password=password if password is not None else arranged.password,
            client_address=address,
            throttle=arranged.throttle,
            clock=arranged.clock,
        )


class TestSignIn:
    async def test_the_right_password_opens_a_session_storing_only_the_tokens_digest(
        self, arranged: Arranged
    ) -> None:
        opened = await sign_in(arranged, email=arranged.email.upper())
        async with arranged.runtime.sessions() as session:
            stored = await session.scalar(select(DeskSession).where(DeskSession.id == opened.desk_session.id))
        assert stored is not None
        assert stored.token_digest == sha256_hex(opened.token) != opened.token
        assert (stored.account_kind, stored.account_id) == ("provider", arranged.provider.id)
        assert stored.expires_at == START + timedelta(hours=12)
        assert stored.csrf_token

    async def test_a_wrong_password_and_an_unknown_email_are_refused_alike(self, arranged: Arranged) -> None:
        with pytest.raises(Unauthorized, match="Wrong email or password") as wrong:
            await sign_in(arranged, password="not-the-password")
        with pytest.raises(Unauthorized) as unknown:
            await sign_in(arranged, email="nobody@desk.example")
        assert wrong.value.message == unknown.value.message

    async def test_an_account_without_a_password_cannot_sign_in(self, arranged: Arranged) -> None:
        email = f"nopass-{secrets.token_hex(3)}@desk.example"
        async with arranged.runtime.sessions() as session, session.begin():
            await providers.create_provider(session, name="Dr. No", states=("NY",), email=email)
        with pytest.raises(Unauthorized):
            await sign_in(arranged, email=email, password="")

    async def test_a_short_password_is_refused(self, arranged: Arranged) -> None:
        async with arranged.runtime.sessions() as session, session.begin():
            with pytest.raises(InvalidInput, match="at least 10 characters"):
                await accounts_service.set_password(
                    session, kind=PROVIDER, account_id=arranged.provider.id, password="short"
                )


class TestThrottling:
    async def test_after_the_allowed_failures_even_the_right_password_waits(self, arranged: Arranged) -> None:
        for _ in range(3):
            with pytest.raises(Unauthorized):
                await sign_in(arranged, password="not-the-password")
        with pytest.raises(RateLimited, match="Too many sign-in attempts") as refused:
            await sign_in(arranged)
        assert refused.value.retry_after > 0

    async def test_one_address_failing_over_many_emails_is_throttled(self, arranged: Arranged) -> None:
        for number in range(30):
            with pytest.raises(Unauthorized):
                await sign_in(arranged, email=f"guess-{number}@desk.example", address="10.9.9.9")
        with pytest.raises(RateLimited):
            await sign_in(arranged, address="10.9.9.9")
        assert (await sign_in(arranged, address="10.1.1.1")).token

    async def test_a_success_clears_the_emails_failures(self, arranged: Arranged) -> None:
        for _ in range(2):
            with pytest.raises(Unauthorized):
                await sign_in(arranged, password="not-the-password")
        await sign_in(arranged)
        for _ in range(2):
            with pytest.raises(Unauthorized):
                await sign_in(arranged, password="not-the-password")
        assert (await sign_in(arranged)).token


class TestSessions:
    async def test_the_token_finds_its_session_until_it_expires(self, arranged: Arranged) -> None:
        opened = await sign_in(arranged)
        async with arranged.runtime.sessions() as session:
            found = await accounts_service.signed_in(
                session, kind=PROVIDER, token=opened.token, clock=arranged.clock
            )
        assert found is not None and found.account.id == arranged.provider.id
        arranged.clock.advance(timedelta(hours=12))
        async with arranged.runtime.sessions() as session:
            assert (
                await accounts_service.signed_in(
                    session, kind=PROVIDER, token=opened.token, clock=arranged.clock
                )
                is None
            )

    async def test_a_providers_token_opens_no_pharmacy_desk(self, arranged: Arranged) -> None:
        opened = await sign_in(arranged)
        async with arranged.runtime.sessions() as session:
            assert (
                await accounts_service.signed_in(
                    session, kind=DeskAccountKind.pharmacy_user, token=opened.token, clock=arranged.clock
                )
                is None
            )

    async def test_signing_out_ends_the_session(self, arranged: Arranged) -> None:
        opened = await sign_in(arranged)
        async with arranged.runtime.sessions() as session, session.begin():
            found = await accounts_service.signed_in(
                session, kind=PROVIDER, token=opened.token, clock=arranged.clock
            )
            assert found is not None
            await accounts_service.sign_out(session, signed_in=found, clock=arranged.clock)
        async with arranged.runtime.sessions() as session:
            assert (
                await accounts_service.signed_in(
                    session, kind=PROVIDER, token=opened.token, clock=arranged.clock
                )
                is None
            )

    async def test_a_deactivated_providers_session_no_longer_opens(self, arranged: Arranged) -> None:
        opened = await sign_in(arranged)
        async with arranged.runtime.sessions() as session, session.begin():
            provider = await session.get(Provider, arranged.provider.id)
            assert provider is not None
            provider.is_active = False
        async with arranged.runtime.sessions() as session:
            assert (
                await accounts_service.signed_in(
                    session, kind=PROVIDER, token=opened.token, clock=arranged.clock
                )
                is None
            )
