"""Desk accounts: the people who work at a desk rather than in the clinic console, providers (the
provider desk) and pharmacy users (the pharmacy desk). Written once for both kinds.

- A password is stored as argon2id; an account without one cannot sign in.
- Sign-in by email and password. An unknown email costs the same argon2 work as a wrong password and
  answers the same sentence. Throttled as every password sign-in is (core/tenancy/sign_in_throttle.py:
  counted before the password is checked, a back-off per account and client address, a per-account
  ceiling that slows, failures per client address), each desk's counts apart.
- A session: a random token goes into the cookie and only its SHA-256 digest is stored, with the form
  token (CSRF) of its pages; it lasts 12 hours, or until sign-out. A token of one kind never opens a
  session of the other (nor a console session: those live in another table).

Services never commit.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from clinicore.core.accounts import repository
from clinicore.core.accounts.repository import DeskAccount
from clinicore.core.audit import service as audit_service
from clinicore.core.audit.service import Actor
from clinicore.core.models import DeskAccountKind, DeskSession
from clinicore.core.tenancy import sign_in_throttle
from clinicore.core.tenancy.sign_in_throttle import SignInThrottle as SignInThrottle
from clinicore.kit import contact
from clinicore.kit.clock import Clock, system_clock
from clinicore.kit.contact import email_key
from clinicore.kit.crypto import hash_password, password_needs_rehash, sha256_hex, verify_password
from clinicore.kit.errors import InvalidInput, NotFound, Unauthorized

SESSION_LIFETIME = timedelta(hours=12)
MIN_PASSWORD_LENGTH = 10
WRONG_CREDENTIALS = "Wrong email or password."


@dataclass(frozen=True, slots=True)
class OpenedDeskSession:
    token: str  # goes into the cookie; only its digest is stored
    desk_session: DeskSession


@dataclass(frozen=True, slots=True)
class SignedInDesk:
    kind: DeskAccountKind
    account: DeskAccount
    desk_session: DeskSession

    @property
    def actor(self) -> Actor:
        return actor_of(self.kind, self.account.id)


def actor_of(kind: DeskAccountKind, account_id: uuid.UUID) -> Actor:
    return Actor(kind.value, str(account_id))


_dummy_hash: str | None = None


def _timing_dummy_hash() -> str:
    """A stand-in hash so that an unknown email costs the same argon2 work as a wrong password."""
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = hash_password(secrets.token_urlsafe(16))
    return _dummy_hash


def _email_or_blank(raw: str) -> str:
    try:
        return email_key(contact.normalise_email(raw))
    except InvalidInput:
        return ""


async def set_password(
    session: AsyncSession,
    *,
    kind: DeskAccountKind,
    account_id: uuid.UUID,
    password: str,
    actor: Actor = audit_service.SYSTEM,
    clock: Clock = system_clock,
) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"password: must be at least {MIN_PASSWORD_LENGTH} characters", field="password")
    account = await repository.get_account(session, kind=kind, account_id=account_id)
    if account is None:
        raise NotFound(f"{kind.value}_id: no {kind.value} {account_id}", field=f"{kind.value}_id")
    account.password_hash = hash_password(password)
    await audit_service.record(
        session,
        clinic_id=None,
        actor=actor,
        action=f"{kind.value}.password_set",
        target_type=kind.value,
        target_id=account.id,
        clock=clock,
    )


async def _check_password(
    session: AsyncSession, kind: DeskAccountKind, email: str, password: str
) -> DeskAccount:
    account = await repository.get_account_by_email(session, kind=kind, email=email) if email else None
    if account is None or not account.is_active or not account.password_hash:
        verify_password(_timing_dummy_hash(), password)
        raise Unauthorized(WRONG_CREDENTIALS)
    if not verify_password(account.password_hash, password):
        raise Unauthorized(WRONG_CREDENTIALS)
    if password_needs_rehash(account.password_hash):
        account.password_hash = hash_password(password)
    return account


async def sign_in(
    session: AsyncSession,
    *,
    kind: DeskAccountKind,
    email: str,
    password: str,
    client_address: str,
    throttle: SignInThrottle,
    clock: Clock = system_clock,
) -> OpenedDeskSession:
    """Check the password and open a desk session (see the module docstring)."""
    realm = f"desk-{kind.value}"
    account_key = sign_in_throttle.account_key(email)
    await throttle.admit(realm=realm, account=account_key, client_address=client_address)
    try:
        account = await _check_password(session, kind, _email_or_blank(email), password)
    except Unauthorized:
        await throttle.failed(realm=realm, client_address=client_address)
        raise
    await throttle.succeeded(realm=realm, account=account_key, client_address=client_address)
    opened = await open_session(session, kind=kind, account_id=account.id, clock=clock)
    await audit_service.record(
        session,
        clinic_id=None,
        actor=actor_of(kind, account.id),
        action=f"{kind.value}.signed_in",
        clock=clock,
    )
    return opened


async def open_session(
    session: AsyncSession, *, kind: DeskAccountKind, account_id: uuid.UUID, clock: Clock = system_clock
) -> OpenedDeskSession:
    now = clock.now()
    token = secrets.token_urlsafe(32)
    desk_session = DeskSession(
        account_kind=kind.value,
        account_id=account_id,
        token_digest=sha256_hex(token),
        csrf_token=secrets.token_urlsafe(32),
        created_at=now,
        expires_at=now + SESSION_LIFETIME,
    )
    session.add(desk_session)
    await session.flush()
    return OpenedDeskSession(token=token, desk_session=desk_session)


async def signed_in(
    session: AsyncSession, *, kind: DeskAccountKind, token: str, clock: Clock = system_clock
) -> SignedInDesk | None:
    """The session the cookie's token opens, or None (unknown, expired, another kind, inactive account)."""
    desk_session = await repository.get_desk_session(session, kind=kind, token_digest=sha256_hex(token))
    if desk_session is None or desk_session.expires_at <= clock.now():
        return None
    account = await repository.get_account(session, kind=kind, account_id=desk_session.account_id)
    if account is None or not account.is_active:
        return None
    return SignedInDesk(kind=kind, account=account, desk_session=desk_session)


async def sign_out(session: AsyncSession, *, signed_in: SignedInDesk, clock: Clock = system_clock) -> None:
    await repository.delete_desk_session(session, signed_in.desk_session.id)
    await audit_service.record(
        session,
        clinic_id=None,
        actor=signed_in.actor,
        action=f"{signed_in.kind.value}.signed_out",
        clock=clock,
    )


async def purge_expired_sessions(session: AsyncSession, *, clock: Clock = system_clock) -> int:
    return await repository.delete_expired_desk_sessions(session, clock.now())
