"""Partner users: the partner's people who sign in to the partner console.

- A password is stored as argon2id (at least 10 characters). Emails are unique among partner users and
  matched without case.
- Sign-in by email and password, with the same care as the clinic console's and the desks': an unknown
  email costs the same argon2 work as a wrong password and answers the same sentence. Throttled as every
  password sign-in is (core/tenancy/sign_in_throttle.py, realm ``partner``): each attempt is counted
  before the password is looked at, keyed on the normalised address, with a back-off per account and
  client address and a per-account ceiling; a spent limit is refused with ``RateLimited``.
- A session: a random token goes into the cookie and only its SHA-256 digest is stored, with the CSRF
  token of its pages; it lasts 12 hours, or until sign-out. A partner console session never opens the
  clinic console nor a desk (their sessions live in other tables), nor the other way round.

Services never commit.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache

from sqlalchemy.ext.asyncio import AsyncSession

from clinicore.core.audit import service as audit_service
from clinicore.core.audit.service import Actor
from clinicore.core.models import Partner, PartnerConsoleSession, PartnerUser
from clinicore.core.partners import repository
from clinicore.core.tenancy import sign_in_throttle
from clinicore.core.tenancy.service import normalise_email
from clinicore.core.tenancy.sign_in_throttle import SignInThrottle as SignInThrottle
from clinicore.kit.clock import Clock, system_clock
from clinicore.kit.crypto import hash_password, password_needs_rehash, sha256_hex, verify_password
from clinicore.kit.errors import InvalidInput, NotFound, Unauthorized

SESSION_LIFETIME = timedelta(hours=12)
MIN_PASSWORD_LENGTH = 10
MAX_NAME = 200
THROTTLE_REALM = "partner"  # its counts apart from the clinic console's and the desks'
WRONG_CREDENTIALS = "Wrong email or password."


@dataclass(frozen=True, slots=True)
class OpenedPartnerSession:
    token: str  # goes into the cookie; only its digest is stored
    console_session: PartnerConsoleSession


@dataclass(frozen=True, slots=True)
class SignedInPartnerUser:
    user: PartnerUser
    partner: Partner
    console_session: PartnerConsoleSession

    @property
    def actor(self) -> Actor:
        return actor_of(self.user.id)


def actor_of(user_id: uuid.UUID) -> Actor:
    return Actor("partner_user", str(user_id))


@lru_cache(maxsize=1)
def _timing_dummy_hash() -> str:
    """A stand-in hash so that an unknown email costs the same argon2 work as a wrong password."""
    return hash_password(secrets.token_urlsafe(16))


def _email_or_blank(raw: str) -> str:
    try:
        return normalise_email(raw)
    except InvalidInput:
        return ""


def _checked_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"password: must be at least {MIN_PASSWORD_LENGTH} characters", field="password")
    return password


async def create_user(
    session: AsyncSession,
    *,
    partner_id: uuid.UUID,
    email: str,
    name: str,
    password: str,
    actor: Actor = audit_service.SYSTEM,
    clock: Clock = system_clock,
) -> PartnerUser:
    """A partner console user of ``partner_id``; the email must not belong to another partner user."""
    if await repository.get_partner(session, partner_id) is None:
        raise NotFound(f"partner_id: no partner {partner_id}", field="partner_id")
    address = normalise_email(email)
    name = name.strip()
    if len(name) > MAX_NAME:
        raise InvalidInput(f"name: at most {MAX_NAME} characters", field="name")
    if await repository.get_user_by_email(session, address) is not None:
        raise InvalidInput("email: a partner user with this email already exists", field="email")
    user = PartnerUser(
        partner_id=partner_id,
        email=address,
        name=name or address,
        password_hash=hash_password(_checked_password(password)),
        is_active=True,
        created_at=clock.now(),
    )
    session.add(user)
    await session.flush()
    await audit_service.record(
        session,
        clinic_id=None,
        actor=actor,
        action="partner_user.created",
        target_type="partner_user",
        target_id=user.id,
        details={"partner_id": str(partner_id)},
        clock=clock,
    )
    return user


async def get_user_by_email(session: AsyncSession, email: str) -> PartnerUser | None:
    address = _email_or_blank(email)
    return await repository.get_user_by_email(session, address) if address else None


async def set_password(
    session: AsyncSession,
    *,
    user: PartnerUser,
    password: str,
    actor: Actor = audit_service.SYSTEM,
    clock: Clock = system_clock,
) -> None:
    user.password_hash = hash_password(_checked_password(password))
    await audit_service.record(
        session,
        clinic_id=None,
        actor=actor,
        action="partner_user.password_set",
        target_type="partner_user",
        target_id=user.id,
        clock=clock,
    )


async def _check_password(session: AsyncSession, email: str, password: str) -> PartnerUser:
    user = await repository.get_user_by_email(session, email) if email else None
    if user is None or not user.is_active:
        verify_password(_timing_dummy_hash(), password)
        raise Unauthorized(WRONG_CREDENTIALS)
    if not verify_password(user.password_hash, password):
        raise Unauthorized(WRONG_CREDENTIALS)
    if password_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


async def sign_in(
    session: AsyncSession,
    *,
    email: str,
    password: str,
    client_address: str,
    throttle: SignInThrottle,
    clock: Clock = system_clock,
) -> OpenedPartnerSession:
    """Check the password and open a partner console session (see the module docstring)."""
    account_key = sign_in_throttle.account_key(email)
    await throttle.admit(realm=THROTTLE_REALM, account=account_key, client_address=client_address)
    try:
        user = await _check_password(session, _email_or_blank(email), password)
    except Unauthorized:
        await throttle.failed(realm=THROTTLE_REALM, client_address=client_address)
        raise
    await throttle.succeeded(realm=THROTTLE_REALM, account=account_key, client_address=client_address)
    now = clock.now()
    user.last_login_at = now
    token = secrets.token_urlsafe(32)
    console_session = PartnerConsoleSession(
        user_id=user.id,
        token_digest=sha256_hex(token),
        csrf_token=secrets.token_urlsafe(32),
        created_at=now,
        expires_at=now + SESSION_LIFETIME,
    )
    session.add(console_session)
    await session.flush()
    await audit_service.record(
        session,
        clinic_id=None,
        actor=actor_of(user.id),
        action="partner_user.signed_in",
        details={"partner_id": str(user.partner_id)},
        clock=clock,
    )
    return OpenedPartnerSession(token=token, console_session=console_session)


async def signed_in(
    session: AsyncSession, *, token: str, clock: Clock = system_clock
) -> SignedInPartnerUser | None:
    """The session the cookie's token opens, or None (unknown, expired, inactive user)."""
    console_session = await repository.get_console_session(session, sha256_hex(token))
    if console_session is None or console_session.expires_at <= clock.now():
        return None
    user = await repository.get_user(session, console_session.user_id)
    if user is None or not user.is_active:
        return None
    partner = await repository.get_partner(session, user.partner_id)
    if partner is None:
        return None
    return SignedInPartnerUser(user=user, partner=partner, console_session=console_session)


async def sign_out(
    session: AsyncSession, *, signed_in: SignedInPartnerUser, clock: Clock = system_clock
) -> None:
    await repository.delete_console_session(session, signed_in.console_session.id)
    await audit_service.record(
        session, clinic_id=None, actor=signed_in.actor, action="partner_user.signed_out", clock=clock
    )


async def purge_expired_sessions(session: AsyncSession, *, clock: Clock = system_clock) -> int:
    return await repository.delete_expired_console_sessions(session, clock.now())
