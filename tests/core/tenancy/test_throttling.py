"""Sign-in throttling in the core (core/tenancy/sign_in_throttle.py), through the console's sign-in."""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass

import pytest

from clinicore.core.tenancy import service as tenancy_service
from clinicore.core.tenancy.sign_in_throttle import SignInThrottle, account_key
from clinicore.kit.errors import RateLimited, Unauthorized
from clinicore.kit.rate_limit import RateLimiter
from clinicore.runtime import Runtime
from tests.factories import create_clinic
from tests.support import remember_secret

ATTEMPTS = 5


@dataclass(frozen=True, slots=True)
class Account:
    email: str
    password: str


@pytest.fixture
async def account(runtime: Runtime) -> Account:
    made = await create_clinic(runtime)
    return Account(made.email, made.password)


def throttle(*, attempts: int = ATTEMPTS, window_seconds: int = 900, per_minute: int = 100) -> SignInThrottle:
    return SignInThrottle(RateLimiter(), attempts, window_seconds, per_minute)


async def attempt(
    runtime: Runtime, limits: SignInThrottle, email: str, password: str, *, address: str = "10.0.0.1"
) -> str:
    """``signed in``, ``wrong`` or ``throttled``."""
    async with runtime.sessions() as session, session.begin():
        try:
            await tenancy_service.sign_in(
                session, email=email, password=password, client_address=address, throttle=limits
            )
        except Unauthorized:
            return "wrong"
        except RateLimited:
            return "throttled"
    return "signed in"


class TestTheAccountIsTheNormalisedAddress:
    def test_spellings_that_reach_one_account_share_its_key(self) -> None:
        spellings = [
            "Admin@Clinic.Example",
            " admin@clinic.example",
            "admin@clinic。example",
            "ADMIN@ＣＬＩＮＩＣ.example",
        ]
        assert {account_key(spelling) for spelling in spellings} == {"admin@clinic.example"}

    def test_an_address_that_does_not_normalise_is_counted_bounded(self) -> None:
        assert account_key("  NOT AN ADDRESS " + "x" * 1000) == ("not an address " + "x" * 1000)[:320]

    async def test_guesses_spelled_differently_count_against_one_account(
        self, runtime: Runtime, account: Account
    ) -> None:
        limits = throttle()
        local, domain = account.email.split("@")
        spellings = [
            account.email.upper(),
            f"{local}@{domain.replace('.', '。')}",
            f" {local.title()}@{domain} ",
            f"{local}@{domain.upper().replace('C', 'Ｃ')}",
            account.email,
        ]
        assert [await attempt(runtime, limits, email, "wrong-password") for email in spellings] == [
            "wrong"
        ] * 5
        assert await attempt(runtime, limits, account.email.upper(), account.password) == "throttled"


class TestCountedBeforeThePasswordIsChecked:
    async def test_forty_parallel_guesses_check_at_most_the_limit(
        self, runtime: Runtime, account: Account
    ) -> None:
        limits = throttle()
        outcomes = await asyncio.gather(
            *(attempt(runtime, limits, account.email, f"wrong-{number}") for number in range(40))
        )
        assert outcomes.count("wrong") == ATTEMPTS
        assert outcomes.count("throttled") == 40 - ATTEMPTS

    async def test_once_spent_even_the_right_password_waits(self, runtime: Runtime, account: Account) -> None:
        limits = throttle()
        for _ in range(ATTEMPTS):
            assert await attempt(runtime, limits, account.email, "wrong-password") == "wrong"
        async with runtime.sessions() as session, session.begin():
            with pytest.raises(RateLimited, match="Too many sign-in attempts") as refused:
                await tenancy_service.sign_in(
                    session,
                    email=account.email,
                    password=account.password,
                    client_address="10.0.0.1",
                    throttle=limits,
                )
        assert 0 < refused.value.retry_after <= 900


class TestBackOffPerAccountAndAddress:
    async def test_the_owner_on_another_address_still_signs_in(
        self, runtime: Runtime, account: Account
    ) -> None:
        limits = throttle()
        for _ in range(ATTEMPTS + 3):
            await attempt(runtime, limits, account.email, "wrong-password", address="203.0.113.9")
        assert await attempt(runtime, limits, account.email, "wrong-password", address="203.0.113.9") == (
            "throttled"
        )
        assert await attempt(runtime, limits, account.email, account.password, address="198.51.100.4") == (
            "signed in"
        )

    async def test_the_same_address_has_room_again_as_its_attempts_age(
        self, runtime: Runtime, account: Account
    ) -> None:
        limits = throttle(attempts=2, window_seconds=4)
        for _ in range(2):
            await attempt(runtime, limits, account.email, "wrong-password")
        assert await attempt(runtime, limits, account.email, account.password) == "throttled"
        await asyncio.sleep(4.2)
        assert await attempt(runtime, limits, account.email, account.password) == "signed in"

    async def test_a_success_starts_the_back_off_over(self, runtime: Runtime, account: Account) -> None:
        limits = throttle()
        for _ in range(ATTEMPTS - 1):
            await attempt(runtime, limits, account.email, "wrong-password")
        assert await attempt(runtime, limits, account.email, account.password) == "signed in"
        for _ in range(ATTEMPTS - 1):
            assert await attempt(runtime, limits, account.email, "wrong-password") == "wrong"


class TestCeilingPerAccount:
    async def test_guesses_from_many_addresses_are_slowed_to_the_ceiling(
        self, runtime: Runtime, account: Account
    ) -> None:
        limits = throttle(per_minute=8)
        outcomes = [
            await attempt(runtime, limits, account.email, "wrong-password", address=f"192.0.2.{number}")
            for number in range(12)
        ]
        assert outcomes == ["wrong"] * 8 + ["throttled"] * 4
        async with runtime.sessions() as session, session.begin():
            with pytest.raises(RateLimited) as refused:
                await tenancy_service.sign_in(
                    session,
                    email=account.email,
                    password=account.password,
                    client_address="198.51.100.7",
                    throttle=limits,
                )
        assert refused.value.retry_after <= 60  # a minute at most: it slows, it does not lock

    async def test_other_accounts_are_not_slowed(self, runtime: Runtime, account: Account) -> None:
        limits = throttle(per_minute=3)
        for number in range(5):
            await attempt(runtime, limits, account.email, "wrong-password", address=f"192.0.2.{number}")
        other = await create_clinic(runtime)
        assert await attempt(runtime, limits, other.email, other.password, address="192.0.2.1") == "signed in"


class TestPerClientAddress:
    async def test_an_address_failing_over_many_accounts_is_throttled_then_others_are_not(
        self, runtime: Runtime, account: Account
    ) -> None:
        limits = throttle(attempts=2)  # 20 failures per address
        for number in range(20):
            email = f"guess-{number}-{secrets.token_hex(2)}@clinic.example"
            assert await attempt(runtime, limits, email, "wrong", address="10.7.7.7") == "wrong"
        assert await attempt(runtime, limits, account.email, account.password, address="10.7.7.7") == (
            "throttled"
        )
        assert await attempt(runtime, limits, account.email, account.password, address="10.8.8.8") == (
            "signed in"
        )

    async def test_successful_sign_ins_never_throttle_an_address(
        self, runtime: Runtime, account: Account
    ) -> None:
        limits = throttle(attempts=1)  # 10 failures per address
        password = remember_secret(account.password)
        for _ in range(15):
            assert await attempt(runtime, limits, account.email, password, address="10.9.9.9") == "signed in"
