"""The providers a clinic works with, as its console manages them.

How providers relate to clinics: a provider is one of the network's clinicians (``providers``, one account
per email, signing in at the provider desk). A clinic works with the providers its console added
(``clinic_providers``); it lists and manages only those, and another clinic's provider answers as a
missing one. Adding a provider makes a new desk account; an email that already has one is refused
(linking an account another clinic manages would let this clinic change its password and licences).
Deactivating closes the account's desk access (the desk refuses an inactive account's sessions and
sign-ins); it can be reactivated.

Licences: one per state, with its number and expiry. Whether a licence counts today is
``lifecycle.licensed_states`` (an expired licence counts as none), the same rule the desk's queue uses.
Every change is written to the audit log (who, which provider, what), never the password.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from clinicore.core.accounts import service as accounts_service
from clinicore.core.audit import service as audit_service
from clinicore.core.audit.service import Actor
from clinicore.core.models import ClinicProvider, DeskAccountKind, Provider, ProviderLicense
from clinicore.core.telehealth import providers as providers_service
from clinicore.core.telehealth.lifecycle import licensed_states
from clinicore.core.telehealth.routing import clean_text
from clinicore.core.telehealth.states import normalise_state
from clinicore.kit import contact
from clinicore.kit.clock import Clock, system_clock
from clinicore.kit.errors import InvalidInput, NotFound

PROVIDERS_LISTED = 500
NAME_LIMIT = 200
CREDENTIALS_LIMIT = 50
LICENSE_NUMBER_LIMIT = 50
NPI_DIGITS = 10

TAKEN_EMAIL = "email: a provider account with this email already exists; use another email"


@dataclass(frozen=True, slots=True)
class LicenseView:
    license: ProviderLicense
    counts: bool  # False: expired (counts as none)


@dataclass(frozen=True, slots=True)
class ProviderView:
    provider: Provider
    licenses: Sequence[LicenseView]

    @property
    def licensed_now(self) -> list[str]:
        return [view.license.state for view in self.licenses if view.counts]


@dataclass(frozen=True, slots=True)
class ProviderDetails:
    """What a provider's form says (blank optional fields are None)."""

    name: str
    credentials: str | None = None
    npi: str | None = None
    is_medical_director: bool = False


def _text(value: str | None, *, field: str, limit: int) -> str | None:
    """Trimmed text, blank as None; a control character (a NUL byte PostgreSQL would refuse) is refused."""
    if value is not None and any(ord(character) < 32 for character in value):
        raise InvalidInput(f"{field}: contains a control character", field=field)
    return clean_text(value, field=field, limit=limit)


def _clean_details(details: ProviderDetails) -> ProviderDetails:
    name = _text(details.name, field="name", limit=NAME_LIMIT)
    if name is None:
        raise InvalidInput("name: required", field="name")
    npi = _text(details.npi, field="npi", limit=NPI_DIGITS)
    if npi is not None and not (npi.isascii() and npi.isdigit() and len(npi) == NPI_DIGITS):
        raise InvalidInput(f"npi: the NPI is {NPI_DIGITS} digits", field="npi")
    return ProviderDetails(
        name=name,
        credentials=_text(details.credentials, field="credentials", limit=CREDENTIALS_LIMIT),
        npi=npi,
        is_medical_director=details.is_medical_director,
    )


async def _audit(
    session: AsyncSession,
    *,
    clinic_id: uuid.UUID,
    actor: Actor,
    action: str,
    provider_id: uuid.UUID,
    clock: Clock,
    details: dict[str, str | bool | None] | None = None,
) -> None:
    await audit_service.record(
        session,
        clinic_id=clinic_id,
        actor=actor,
        action=action,
        target_type="provider",
        target_id=provider_id,
        details=dict(details or {}),
        clock=clock,
    )


# --- reading ----------------------------------------------------------------------------------------


async def _view(session: AsyncSession, provider: Provider, *, clock: Clock) -> ProviderView:
    licenses = (
        await session.scalars(
            select(ProviderLicense)
            .where(ProviderLicense.provider_id == provider.id)
            .order_by(ProviderLicense.state)
        )
    ).all()
    counting = await licensed_states(session, provider, clock=clock)
    return ProviderView(provider, [LicenseView(item, item.state in counting) for item in licenses])


async def list_providers(
    session: AsyncSession, *, clinic_id: uuid.UUID, clock: Clock = system_clock
) -> list[ProviderView]:
    """The clinic's providers, active first, by name, each with their licences."""
    providers = (
        await session.scalars(
            select(Provider)
            .join(ClinicProvider, ClinicProvider.provider_id == Provider.id)
            .where(ClinicProvider.clinic_id == clinic_id)
            .order_by(Provider.is_active.desc(), Provider.name, Provider.id)
            .limit(PROVIDERS_LISTED)
        )
    ).all()
    return [await _view(session, provider, clock=clock) for provider in providers]


async def _clinic_provider(
    session: AsyncSession, *, clinic_id: uuid.UUID, provider_id: uuid.UUID
) -> Provider:
    provider = await session.scalar(
        select(Provider)
        .join(ClinicProvider, ClinicProvider.provider_id == Provider.id)
        .where(ClinicProvider.clinic_id == clinic_id, Provider.id == provider_id)
    )
    if provider is None:
        raise NotFound("provider not found", field="provider_id")
    return provider


async def get_provider(
    session: AsyncSession, *, clinic_id: uuid.UUID, provider_id: uuid.UUID, clock: Clock = system_clock
) -> ProviderView:
    provider = await _clinic_provider(session, clinic_id=clinic_id, provider_id=provider_id)
    return await _view(session, provider, clock=clock)


# --- changing ---------------------------------------------------------------------------------------


async def add_provider(
    session: AsyncSession,
    *,
    clinic_id: uuid.UUID,
    details: ProviderDetails,
    email: str,
    password: str,
    actor: Actor,
    clock: Clock = system_clock,
) -> Provider:
    """A new provider desk account the clinic works with, signing in with ``email`` and ``password``."""
    cleaned = _clean_details(details)
    address = contact.email_key(contact.normalise_email(email, field="email"))
    if await providers_service.provider_by_email(session, email=address) is not None:
        raise InvalidInput(TAKEN_EMAIL, field="email")
    try:
        async with session.begin_nested():
            provider = await providers_service.create_provider(
                session,
                name=cleaned.name,
                states=(),
                credentials=cleaned.credentials,
                email=address,
                npi=cleaned.npi,
                is_medical_director=cleaned.is_medical_director,
                clock=clock,
            )
    except IntegrityError:
        # Another admin added the same email a moment ago: the same answer as above.
        raise InvalidInput(TAKEN_EMAIL, field="email") from None
    session.add(ClinicProvider(clinic_id=clinic_id, provider_id=provider.id, created_at=clock.now()))
    await accounts_service.set_password(
        session,
        kind=DeskAccountKind.provider,
        account_id=provider.id,
        password=password,
        actor=actor,
        clock=clock,
    )
    await _audit(
        session,
        clinic_id=clinic_id,
        actor=actor,
        action="provider.added",
        provider_id=provider.id,
        clock=clock,
    )
    await session.flush()
    return provider


async def work_with(
    session: AsyncSession, *, clinic_id: uuid.UUID, provider_id: uuid.UUID, clock: Clock = system_clock
) -> None:
    """List an existing provider among the clinic's (the demo's providers, an import); done once."""
    if await session.get(ClinicProvider, (clinic_id, provider_id)) is None:
        session.add(ClinicProvider(clinic_id=clinic_id, provider_id=provider_id, created_at=clock.now()))
        await session.flush()


async def update_provider(
    session: AsyncSession,
    *,
    clinic_id: uuid.UUID,
    provider_id: uuid.UUID,
    details: ProviderDetails,
    actor: Actor,
    clock: Clock = system_clock,
) -> Provider:
    """Name, credentials, NPI and the medical-director flag."""
    provider = await _clinic_provider(session, clinic_id=clinic_id, provider_id=provider_id)
    cleaned = _clean_details(details)
    provider.name = cleaned.name
    provider.credentials = cleaned.credentials
    provider.npi = cleaned.npi
    provider.is_medical_director = cleaned.is_medical_director
    await _audit(
        session,
        clinic_id=clinic_id,
        actor=actor,
        action="provider.updated",
        provider_id=provider.id,
        clock=clock,
        details={"is_medical_director": cleaned.is_medical_director},
    )
    await session.flush()
    return provider


async def set_provider_password(
    session: AsyncSession,
    *,
    clinic_id: uuid.UUID,
    provider_id: uuid.UUID,
    password: str,
    actor: Actor,
    clock: Clock = system_clock,
) -> None:
    provider = await _clinic_provider(session, clinic_id=clinic_id, provider_id=provider_id)
    await accounts_service.set_password(
        session,
        kind=DeskAccountKind.provider,
        account_id=provider.id,
        password=password,
        actor=actor,
        clock=clock,
    )


async def set_provider_active(
    session: AsyncSession,
    *,
    clinic_id: uuid.UUID,
    provider_id: uuid.UUID,
    active: bool,
    actor: Actor,
    clock: Clock = system_clock,
) -> Provider:
    """Deactivate (the desk refuses the account from its next request) or reactivate."""
    provider = await _clinic_provider(session, clinic_id=clinic_id, provider_id=provider_id)
    if provider.is_active == active:
        state = "active" if active else "deactivated"
        raise InvalidInput(f"provider: already {state}", field="provider_id")
    provider.is_active = active
    action = "provider.reactivated" if active else "provider.deactivated"
    await _audit(
        session, clinic_id=clinic_id, actor=actor, action=action, provider_id=provider.id, clock=clock
    )
    await session.flush()
    return provider


def _state(value: str) -> str:
    try:
        return normalise_state(value)
    except InvalidInput:
        raise InvalidInput("state: a two-letter U.S. state code such as NY", field="state") from None


async def set_license(
    session: AsyncSession,
    *,
    clinic_id: uuid.UUID,
    provider_id: uuid.UUID,
    state: str,
    license_number: str | None,
    expires_on: date | None,
    actor: Actor,
    clock: Clock = system_clock,
) -> ProviderLicense:
    """Add the provider's licence in ``state`` or change its number and expiry. A licence that has
    already expired may be recorded (it shows as expired and counts as none)."""
    provider = await _clinic_provider(session, clinic_id=clinic_id, provider_id=provider_id)
    code = _state(state)
    number = _text(license_number, field="license_number", limit=LICENSE_NUMBER_LIMIT)
    license = await providers_service.set_license(
        session, provider_id=provider.id, state=code, license_number=number, expires_on=expires_on
    )
    await _audit(
        session,
        clinic_id=clinic_id,
        actor=actor,
        action="provider.license_set",
        provider_id=provider.id,
        clock=clock,
        details={"state": code, "expires_on": expires_on.isoformat() if expires_on else None},
    )
    return license


async def remove_license(
    session: AsyncSession,
    *,
    clinic_id: uuid.UUID,
    provider_id: uuid.UUID,
    state: str,
    actor: Actor,
    clock: Clock = system_clock,
) -> None:
    provider = await _clinic_provider(session, clinic_id=clinic_id, provider_id=provider_id)
    code = _state(state)
    license = await session.get(ProviderLicense, (provider.id, code))
    if license is None:
        raise NotFound(f"state: no licence in {code}", field="state")
    await session.delete(license)
    await _audit(
        session,
        clinic_id=clinic_id,
        actor=actor,
        action="provider.license_removed",
        provider_id=provider.id,
        clock=clock,
        details={"state": code},
    )
    await session.flush()
