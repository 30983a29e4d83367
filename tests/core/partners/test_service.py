"""Partner users: creating them, signing in with throttling per normalised email and per address, and
sessions that expire and end at sign-out."""

from __future__ import annotations

import asyncio
import dataclasses
import secrets
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from clinicore.core.models import PartnerConsoleSession, PartnerUser
from clinicore.core.partners import service as partner_service
from clinicore.core.partners.service import OpenedPartnerSession, SignInThrottle
from clinicore.core.tenancy import service as tenancy_service
from clinicore.core.tenancy.sign_in_throttle import account_key
from clinicore.kit.clock import FrozenClock
from clinicore.kit.crypto import sha256_hex
from clinicore.kit.errors import InvalidInput, NotFound, RateLimited, Unauthorized
from clinicore.kit.rate_limit import RateLimiter
from clinicore.runtime import Runtime
from clinicore.worker.loop import DEFAULT_JOBS
from tests.support import remember_secret

START = datetime(2031, 5, 5, 15, 0, tzinfo=UTC)


@dataclasses.dataclass
class Arranged:
    runtime: Runtime
    clock: FrozenClock
    user: PartnerUser
    email: str
    password: str
    throttle: SignInThrottle


@pytest.fixture
async def arranged(runtime: Runtime) -> Arranged:
    clock = FrozenClock(START)
    frozen = dataclasses.replace(runtime, clock=clock)
    email = f"Partner-{secrets.token_hex(4)}@Partner.example"
    password = remember_secret(secrets.token_urlsafe(16))
    async with frozen.sessions() as session, session.begin():
        partner = await tenancy_service.create_partner(session, name=f"P {secrets.token_hex(4)}", clock=clock)
        user = await partner_service.create_user(
            session, partner_id=partner.id, email=email, name=" Pat ", password=password, clock=clock
        )
    return Arranged(frozen, clock, user, email, password, SignInThrottle(RateLimiter(), 3, 900))


async def sign_in(
    arranged: Arranged, *, password: str | None = None, address: str = "10.0.0.1", email: str | None = None
) -> OpenedPartnerSession:
    async with arranged.runtime.sessions() as session, session.begin():
        return await partner_service.sign_in(
            session,
            email=email or arranged.email,
            password=password if password is not None else arranged.password,
            client_address=address,
            throttle=arranged.throttle,
            clock=arranged.clock,
        )


class TestUsers:
    async def test_a_user_is_stored_with_a_lower_cased_email_and_an_argon2_hash(
        self, arranged: Arranged
    ) -> None:
        assert arranged.user.email == arranged.email.lower()
        assert arranged.user.name == "Pat"
        assert arranged.user.password_hash.startswith("$argon2id$")
        assert arranged.password not in arranged.user.password_hash

    async def test_an_email_another_partner_user_has_is_refused_without_case(
        self, arranged: Arranged
    ) -> None:
        async with arranged.runtime.sessions() as session, session.begin():
            with pytest.raises(InvalidInput) as refused:
                await partner_service.create_user(
                    session,
                    partner_id=arranged.user.partner_id,
                    email=arranged.email.upper(),
                    name="",
                    password="long-enough-password",
                )
        assert refused.value.field == "email"

    @pytest.mark.parametrize(
        ("email", "password", "field"),
        [("not-an-email", "long-enough-password", "email"), ("ok@partner.example", "short", "password")],
    )
    async def test_bad_email_or_short_password_is_refused(
        self, arranged: Arranged, email: str, password: str, field: str
    ) -> None:
        async with arranged.runtime.sessions() as session, session.begin():
            with pytest.raises(InvalidInput) as refused:
                await partner_service.create_user(
                    session, partner_id=arranged.user.partner_id, email=email, name="", password=password
                )
        assert refused.value.field == field

    async def test_an_unknown_partner_is_refused(self, runtime: Runtime) -> None:
        import uuid

        async with runtime.sessions() as session, session.begin():
            with pytest.raises(NotFound):
                await partner_service.create_user(
                    session, partner_id=uuid.uuid4(), email="x@y.example", name="", password="long-enough-pw"
                )


class TestSignIn:
    async def test_the_right_password_opens_a_session_storing_only_the_tokens_digest(
        self, arranged: Arranged
    ) -> None:
        opened = await sign_in(arranged, email=f"  {arranged.email.upper()} ")
        async with arranged.runtime.sessions() as session:
            stored = await session.scalar(
                select(PartnerConsoleSession).where(PartnerConsoleSession.id == opened.console_session.id)
            )
            user = await session.get(PartnerUser, arranged.user.id)
        assert stored is not None and user is not None
        assert stored.token_digest == sha256_hex(opened.token) != opened.token
        assert stored.user_id == arranged.user.id
        assert stored.expires_at == START + timedelta(hours=12)
        assert stored.csrf_token
        assert user.last_login_at == START

    async def test_a_wrong_password_and_an_unknown_email_are_refused_alike_with_the_same_work(
        self, arranged: Arranged, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        checked: list[str] = []
        real_verify = partner_service.verify_password

        def counting_verify(password_hash: str, password: str) -> bool:
            checked.append(password_hash)
            return real_verify(password_hash, password)

        monkeypatch.setattr(partner_service, "verify_password", counting_verify)
        with pytest.raises(Unauthorized, match="Wrong email or password") as wrong:
            await sign_in(arranged, password="not-the-password")
        with pytest.raises(Unauthorized) as unknown:
            await sign_in(arranged, email="nobody@partner.example")
        with pytest.raises(Unauthorized) as malformed:
            await sign_in(arranged, email="not an email")
        assert wrong.value.message == unknown.value.message == malformed.value.message
        assert len(checked) == 3  # an unknown email still costs one argon2 verification

    async def test_a_deactivated_user_cannot_sign_in(self, arranged: Arranged) -> None:
        async with arranged.runtime.sessions() as session, session.begin():
            user = await session.get(PartnerUser, arranged.user.id)
            assert user is not None
            user.is_active = False
        with pytest.raises(Unauthorized):
            await sign_in(arranged)


class TestThrottling:
    async def test_after_the_allowed_failures_even_the_right_password_waits(self, arranged: Arranged) -> None:
        for _ in range(3):
            with pytest.raises(Unauthorized):
                await sign_in(arranged, password="not-the-password")
        with pytest.raises(RateLimited, match="Too many sign-in attempts") as refused:
            await sign_in(arranged)
        assert refused.value.retry_after > 0

    async def test_failures_count_per_normalised_email(self, arranged: Arranged) -> None:
        for spelling in (arranged.email.upper(), f" {arranged.email} ", arranged.email.lower()):
            with pytest.raises(Unauthorized):
                await sign_in(arranged, email=spelling, password="not-the-password")
        with pytest.raises(RateLimited):
            await sign_in(arranged, email=arranged.email.swapcase())

    async def test_one_address_failing_over_many_emails_is_throttled(self, arranged: Arranged) -> None:
        for number in range(30):
            with pytest.raises(Unauthorized):
                await sign_in(arranged, email=f"guess-{number}@partner.example", address="10.9.9.9")
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


class TestSharedThrottle:
    """The partner sign-in is throttled by core/tenancy/sign_in_throttle.py (realm ``partner``)."""

    async def test_forty_parallel_guesses_reach_the_password_check_at_most_the_limit(
        self, arranged: Arranged
    ) -> None:
        async def guess(number: int) -> str:
            try:
                await sign_in(arranged, password=f"wrong-{number}")
            except Unauthorized:
                return "wrong"
            except RateLimited:
                return "throttled"
            return "signed in"

        outcomes = await asyncio.gather(*(guess(number) for number in range(40)))
        assert outcomes.count("wrong") <= arranged.throttle.attempts
        assert outcomes.count("throttled") == 40 - outcomes.count("wrong")

    async def test_full_width_and_upper_case_spellings_share_the_counter(self, arranged: Arranged) -> None:
        local, domain = arranged.email.split("@")
        full_width = "".join(chr(ord(letter) + 0xFEE0) if letter.isalpha() else letter for letter in domain)
        for spelling in (
            arranged.email.upper(),
            f"{local}@{full_width}",
            f"{local}@{domain.replace('.', '。')}",
        ):
            with pytest.raises(Unauthorized):
                await sign_in(arranged, email=spelling, password="not-the-password")
        with pytest.raises(RateLimited):
            await sign_in(arranged)

    async def test_the_owner_on_another_address_still_signs_in(self, arranged: Arranged) -> None:
        for _ in range(3):
            with pytest.raises(Unauthorized):
                await sign_in(arranged, password="not-the-password", address="10.6.6.6")
        with pytest.raises(RateLimited):
            await sign_in(arranged, address="10.6.6.6")
        assert (await sign_in(arranged, address="10.7.7.7")).token

    async def test_the_partner_counts_are_apart_from_the_other_sign_ins(self, arranged: Arranged) -> None:
        address = "10.8.8.8"
        account = account_key(arranged.email)
        for _ in range(3):
            await arranged.throttle.admit(realm="console", account=account, client_address=address)
        assert (await sign_in(arranged, address=address)).token


class TestSessions:
    async def test_the_token_finds_its_session_until_it_expires(self, arranged: Arranged) -> None:
        opened = await sign_in(arranged)
        async with arranged.runtime.sessions() as session:
            found = await partner_service.signed_in(session, token=opened.token, clock=arranged.clock)
        assert found is not None
        assert (found.user.id, found.partner.id) == (arranged.user.id, arranged.user.partner_id)
        arranged.clock.advance(timedelta(hours=12))
        async with arranged.runtime.sessions() as session:
            assert await partner_service.signed_in(session, token=opened.token, clock=arranged.clock) is None

    async def test_signing_out_ends_the_session(self, arranged: Arranged) -> None:
        opened = await sign_in(arranged)
        async with arranged.runtime.sessions() as session, session.begin():
            found = await partner_service.signed_in(session, token=opened.token, clock=arranged.clock)
            assert found is not None
            await partner_service.sign_out(session, signed_in=found, clock=arranged.clock)
        async with arranged.runtime.sessions() as session:
            assert await partner_service.signed_in(session, token=opened.token, clock=arranged.clock) is None

    async def test_a_deactivated_users_session_no_longer_opens(self, arranged: Arranged) -> None:
        opened = await sign_in(arranged)
        async with arranged.runtime.sessions() as session, session.begin():
            user = await session.get(PartnerUser, arranged.user.id)
            assert user is not None
            user.is_active = False
        async with arranged.runtime.sessions() as session:
            assert await partner_service.signed_in(session, token=opened.token, clock=arranged.clock) is None

    async def test_expired_sessions_are_purged(self, arranged: Arranged) -> None:
        opened = await sign_in(arranged)
        arranged.clock.advance(timedelta(hours=13))
        async with arranged.runtime.sessions() as session, session.begin():
            assert await partner_service.purge_expired_sessions(session, clock=arranged.clock) >= 1
        async with arranged.runtime.sessions() as session:
            assert await session.get(PartnerConsoleSession, opened.console_session.id) is None
        assert "partner_session.purge" in {job.name for job in DEFAULT_JOBS}  # the worker purges them
