"""Results of tenancy use cases."""

from __future__ import annotations

from dataclasses import dataclass

from clinicore.core.models import ApiKey, Clinic, ClinicUser, ConsoleSession, Partner


@dataclass(frozen=True, slots=True)
class CreatedKey:
    key: ApiKey
    secret: str  # the raw key: shown to the caller once (or again, for retrievable kinds), never logged


@dataclass(frozen=True, slots=True)
class AuthenticatedKey:
    key: ApiKey
    clinic: Clinic | None  # None for a partner key


@dataclass(frozen=True, slots=True)
class ClinicCaller:
    """A clinic's API key, authenticated: the clinic is always there."""

    key: ApiKey
    clinic: Clinic


@dataclass(frozen=True, slots=True)
class PartnerCaller:
    """A partner's API key, authenticated: it sees its own clinics only."""

    key: ApiKey
    partner: Partner


@dataclass(frozen=True, slots=True)
class OpenedSession:
    token: str  # goes into the cookie; only its digest is stored
    console_session: ConsoleSession


@dataclass(frozen=True, slots=True)
class SignedInUser:
    user: ClinicUser
    clinic: Clinic
    console_session: ConsoleSession
