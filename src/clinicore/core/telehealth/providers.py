"""The network's providers and the states they are licensed in."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clinicore.core.models import Provider, ProviderLicense
from clinicore.core.telehealth.states import normalise_state
from clinicore.core.telehealth.test_mode import TEST_STATE
from clinicore.kit.clock import Clock, system_clock
from clinicore.kit.crypto import hash_password

# Fixed emails (the column is unique): two workers creating them at once cannot both succeed; the
# loser's transaction fails and its timer step runs again later with the winner's providers.
TEST_PROVIDERS = (
    ("Test Provider One", "test-provider-1@providers.clinicore.invalid"),
    ("Test Provider Two", "test-provider-2@providers.clinicore.invalid"),
)


async def create_provider(
    session: AsyncSession,
    *,
    name: str,
    states: Sequence[str],
    credentials: str | None = None,
    email: str | None = None,
    npi: str | None = None,
    password: str | None = None,
    is_test: bool = False,
    is_medical_director: bool = False,
    license_numbers: Mapping[str, str] | None = None,
    licenses_expire_on: date | None = None,
    clock: Clock = system_clock,
) -> Provider:
    """A provider licensed in ``states`` (``license_numbers`` by state; every licence expiring on
    ``licenses_expire_on``, None: not recorded)."""
    provider = Provider(
        name=name,
        credentials=credentials,
        email=email.lower() if email else None,
        npi=npi,
        password_hash=hash_password(password) if password else None,
        is_test=is_test,
        is_medical_director=is_medical_director,
        is_active=True,
        created_at=clock.now(),
    )
    session.add(provider)
    await session.flush()
    licensed = {TEST_STATE} if is_test else {normalise_state(state) for state in states}
    numbers = {normalise_state(state): number for state, number in (license_numbers or {}).items()}
    session.add_all(
        ProviderLicense(
            provider_id=provider.id,
            state=state,
            license_number=numbers.get(state),
            expires_on=None if is_test else licenses_expire_on,
        )
        for state in sorted(licensed)
    )
    await session.flush()
    return provider


async def set_license(
    session: AsyncSession,
    *,
    provider_id: uuid.UUID,
    state: str,
    license_number: str | None,
    expires_on: date | None,
) -> ProviderLicense:
    """Add or update the provider's licence in ``state``."""
    code = normalise_state(state)
    license = await session.get(ProviderLicense, (provider_id, code))
    if license is None:
        license = ProviderLicense(provider_id=provider_id, state=code)
        session.add(license)
    license.license_number = license_number
    license.expires_on = expires_on
    await session.flush()
    return license


async def licensed_states(session: AsyncSession, *, provider_id: uuid.UUID) -> list[str]:
    result = await session.scalars(
        select(ProviderLicense.state)
        .where(ProviderLicense.provider_id == provider_id)
        .order_by(ProviderLicense.state)
    )
    return list(result)


async def test_providers(session: AsyncSession, *, clock: Clock = system_clock) -> Sequence[Provider]:
    """The built-in test providers, created the first time they are needed."""
    result = await session.scalars(
        select(Provider)
        .where(Provider.is_test.is_(True), Provider.is_active.is_(True))
        .order_by(Provider.name)
    )
    providers = result.all()
    if providers:
        return providers
    return [
        await create_provider(
            session, name=name, email=email, states=(), credentials="MD", is_test=True, clock=clock
        )
        for name, email in TEST_PROVIDERS
    ]


async def provider_by_email(session: AsyncSession, *, email: str) -> Provider | None:
    return await session.scalar(select(Provider).where(Provider.email == email.lower()))
