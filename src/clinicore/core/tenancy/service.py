"""Tenancy use cases: partners, clinics, console users and sessions, keys.

Services never commit; the request dependency or the CLI's unit of work owns the transaction.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from sqlalchemy import or_, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from clinicore.core.audit import service as audit_service
from clinicore.core.audit.service import Actor
from clinicore.core.models import (
    ApiKey,
    ApiKeyKind,
    Clinic,
    ClinicUser,
    ClinicUserRole,
    ConsoleSession,
    Partner,
)
from clinicore.core.tenancy import repository, sign_in_throttle
from clinicore.core.tenancy.deactivation import refuse_inactive_clinic
from clinicore.core.tenancy.keys import KEY_FORMATS, SINGLE_ACTIVE_KINDS
from clinicore.core.tenancy.schemas import (
    AuthenticatedKey,
    ClinicCaller,
    CreatedKey,
    OpenedSession,
    PartnerCaller,
    SignedInUser,
)
from clinicore.core.tenancy.sign_in_throttle import SignInThrottle
from clinicore.kit import contact
from clinicore.kit.clock import Clock, system_clock
from clinicore.kit.contact import email_key
from clinicore.kit.crypto import (
    SecretBox,
    digests_match,
    hash_password,
    password_needs_rehash,
    sha256_hex,
    verify_password,
)
from clinicore.kit.errors import InvalidInput, NotFound, Unauthorized

SESSION_LIFETIME = timedelta(hours=12)
KEY_TOUCH_INTERVAL = timedelta(minutes=1)  # last_used_at is refreshed at most this often
MIN_PASSWORD_LENGTH = 10


@lru_cache(maxsize=1)
def _timing_dummy_hash() -> str:
    """A stand-in hash so that an unknown email costs the same argon2 work as a wrong password."""
    return hash_password(secrets.token_urlsafe(16))


def normalise_email(raw: str) -> str:
    """A console user's address, all lower-case: sign-in matches it without case."""
    return email_key(contact.normalise_email(raw))


def validate_time_zone(name: str) -> str:
    if name not in available_timezones():
        raise InvalidInput(f"time_zone: {name!r} is not an IANA time zone", field="time_zone")
    try:
        ZoneInfo(name)
    except ZoneInfoNotFoundError:
        raise InvalidInput(f"time_zone: {name!r} is not an IANA time zone", field="time_zone") from None
    return name


# --- partners and clinics -------------------------------------------------------------------------


async def create_partner(session: AsyncSession, *, name: str, clock: Clock = system_clock) -> Partner:
    partner = Partner(name=name, created_at=clock.now())
    session.add(partner)
    await session.flush()
    return partner


async def find_or_create_partner(session: AsyncSession, *, name: str, clock: Clock = system_clock) -> Partner:
    return await repository.get_partner_by_name(session, name) or await create_partner(
        session, name=name, clock=clock
    )


async def create_clinic(
    session: AsyncSession,
    *,
    name: str,
    time_zone: str,
    partner_id: uuid.UUID | None = None,
    external_practice_id: str | None = None,
    email: str | None = None,
    address_state: str | None = None,
    actor: Actor = audit_service.SYSTEM,
    clock: Clock = system_clock,
) -> Clinic:
    if not name.strip():
        raise InvalidInput("name: must not be empty", field="name")
    now = clock.now()
    clinic = Clinic(
        name=name.strip(),
        time_zone=validate_time_zone(time_zone),
        partner_id=partner_id,
        external_practice_id=external_practice_id,
        email=normalise_email(email) if email else None,
        address_state=address_state,
        number=await repository.next_clinic_number(session),
        practice_id=await _unused_practice_id(session),
        created_at=now,
        updated_at=now,
    )
    session.add(clinic)
    await session.flush()
    await audit_service.record(
        session,
        clinic_id=clinic.id,
        actor=actor,
        action="clinic.created",
        target_type="clinic",
        target_id=clinic.id,
        clock=clock,
    )
    return clinic


async def _unused_practice_id(session: AsyncSession) -> str:
    while True:
        candidate = secrets.token_hex(4).upper()  # IntakeQ practice ids look like "54DC9E8F"
        if not await repository.practice_id_taken(session, candidate):
            return candidate


async def get_clinic(session: AsyncSession, clinic_id: uuid.UUID) -> Clinic:
    clinic = await repository.get_clinic(session, clinic_id)
    if clinic is None:
        raise NotFound("clinic not found")
    return clinic


# --- console users and sessions -------------------------------------------------------------------


async def create_user(
    session: AsyncSession,
    *,
    clinic_id: uuid.UUID,
    email: str,
    name: str,
    password: str,
    role: ClinicUserRole = ClinicUserRole.admin,
    actor: Actor = audit_service.SYSTEM,
    clock: Clock = system_clock,
) -> ClinicUser:
    address = normalise_email(email)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"password: must be at least {MIN_PASSWORD_LENGTH} characters", field="password")
    if await repository.get_user_by_email(session, address) is not None:
        raise InvalidInput("email: a user with this email already exists", field="email")
    user = ClinicUser(
        clinic_id=clinic_id,
        email=address,
        name=name.strip() or address,
        password_hash=hash_password(password),
        role=role,
        created_at=clock.now(),
    )
    session.add(user)
    await session.flush()
    await audit_service.record(
        session,
        clinic_id=clinic_id,
        actor=actor,
        action="user.created",
        target_type="user",
        target_id=user.id,
        clock=clock,
    )
    return user


async def set_user_password(
    session: AsyncSession, *, user: ClinicUser, password: str, actor: Actor, clock: Clock = system_clock
) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"password: must be at least {MIN_PASSWORD_LENGTH} characters", field="password")
    user.password_hash = hash_password(password)
    await audit_service.record(
        session,
        clinic_id=user.clinic_id,
        actor=actor,
        action="user.password_set",
        target_type="user",
        target_id=user.id,
        clock=clock,
    )


async def get_user_by_email(session: AsyncSession, email: str) -> ClinicUser | None:
    return await repository.get_user_by_email(session, normalise_email(email))


CONSOLE_REALM = "console"


async def sign_in(
    session: AsyncSession,
    *,
    email: str,
    password: str,
    client_address: str = "",
    throttle: SignInThrottle | None = None,
    clock: Clock = system_clock,
) -> tuple[ClinicUser, OpenedSession]:
    """Check the password and open a console session. Unknown email and wrong password look alike.
    With ``throttle`` the attempt is counted first and may be refused (core/tenancy/sign_in_throttle.py)."""
    account = sign_in_throttle.account_key(email)
    if throttle is not None:
        await throttle.admit(realm=CONSOLE_REALM, account=account, client_address=client_address)
    try:
        user, opened = await _check_password_and_open(session, email=email, password=password, clock=clock)
    except Unauthorized:
        if throttle is not None:
            await throttle.failed(realm=CONSOLE_REALM, client_address=client_address)
        raise
    if throttle is not None:
        await throttle.succeeded(realm=CONSOLE_REALM, account=account, client_address=client_address)
    return user, opened


async def _check_password_and_open(
    session: AsyncSession, *, email: str, password: str, clock: Clock
) -> tuple[ClinicUser, OpenedSession]:
    try:
        address = normalise_email(email)
    except InvalidInput:
        address = ""
    user = await repository.get_user_by_email(session, address) if address else None
    if user is None or not user.is_active or user.password_hash is None:
        verify_password(_timing_dummy_hash(), password)
        raise Unauthorized("wrong email or password")
    if not verify_password(user.password_hash, password):
        raise Unauthorized("wrong email or password")
    refuse_inactive_clinic(await get_clinic(session, user.clinic_id))
    if password_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    opened = await open_session(session, user=user, lifetime=SESSION_LIFETIME, clock=clock)
    return user, opened


async def open_session(
    session: AsyncSession, *, user: ClinicUser, lifetime: timedelta, clock: Clock = system_clock
) -> OpenedSession:
    """A new console session of ``user`` that ends ``lifetime`` from now (a password sign-in's or a
    single sign-on's: core/staff/sign_in.py)."""
    now = clock.now()
    user.last_login_at = now
    token = secrets.token_urlsafe(32)
    console_session = ConsoleSession(
        user_id=user.id,
        token_digest=sha256_hex(token),
        csrf_token=secrets.token_urlsafe(32),
        created_at=now,
        expires_at=now + lifetime,
    )
    session.add(console_session)
    await session.flush()
    await audit_service.record(
        session, clinic_id=user.clinic_id, actor=Actor.user(user.id), action="user.signed_in", clock=clock
    )
    return OpenedSession(token=token, console_session=console_session)


async def signed_in_user(
    session: AsyncSession, *, token: str, clock: Clock = system_clock
) -> SignedInUser | None:
    console_session = await repository.get_console_session(session, sha256_hex(token))
    if console_session is None or console_session.expires_at <= clock.now():
        return None
    user = await repository.get_user(session, console_session.user_id)
    if user is None or not user.is_active:
        return None
    clinic = await get_clinic(session, user.clinic_id)
    if not clinic.is_active:
        return None  # deactivated since: its sessions end at once
    return SignedInUser(user=user, clinic=clinic, console_session=console_session)


async def sign_out(session: AsyncSession, *, signed_in: SignedInUser, clock: Clock = system_clock) -> None:
    await repository.delete_console_session(session, signed_in.console_session.id)
    await audit_service.record(
        session,
        clinic_id=signed_in.clinic.id,
        actor=Actor.user(signed_in.user.id),
        action="user.signed_out",
        clock=clock,
    )


async def purge_expired_sessions(session: AsyncSession, *, clock: Clock = system_clock) -> int:
    return await repository.delete_expired_console_sessions(session, clock.now())


# --- keys -----------------------------------------------------------------------------------------


async def create_key(
    session: AsyncSession,
    *,
    box: SecretBox,
    kind: ApiKeyKind,
    name: str,
    clinic_id: uuid.UUID | None = None,
    partner_id: uuid.UUID | None = None,
    actor: Actor = audit_service.SYSTEM,
    clock: Clock = system_clock,
) -> CreatedKey:
    """Create a key; for the single-active kinds (Qualiphy, IntakeQ practice) this rotates the old one."""
    if (clinic_id is None) == (partner_id is None):
        raise InvalidInput("a key belongs to exactly one clinic or one partner")
    if (kind is ApiKeyKind.intakeq_partner) != (partner_id is not None):
        raise InvalidInput("kind: only IntakeQ partner keys belong to a partner", field="kind")
    if partner_id is not None and await repository.get_partner(session, partner_id) is None:
        raise NotFound("partner not found")
    key_format = KEY_FORMATS[kind]
    now = clock.now()
    if kind in SINGLE_ACTIVE_KINDS:
        for previous in await repository.active_keys_of_kind(session, kind=kind, clinic_id=clinic_id):
            previous.revoked_at = now
    raw = key_format.generate()
    prefix = key_format.lookup_prefix(raw)
    assert prefix is not None
    key = ApiKey(
        clinic_id=clinic_id,
        partner_id=partner_id,
        kind=kind,
        name=name.strip() or key_format.label,
        prefix=prefix,
        digest=sha256_hex(raw),
        encrypted_secret=box.encrypt(raw) if key_format.retrievable else None,
        created_by_user_id=uuid.UUID(actor.id) if actor.type == "user" and actor.id else None,
        created_at=now,
    )
    session.add(key)
    await session.flush()
    await audit_service.record(
        session,
        clinic_id=clinic_id,
        actor=actor,
        action="api_key.created",
        target_type="api_key",
        target_id=key.id,
        details={"kind": str(kind), "prefix": prefix},
        clock=clock,
    )
    return CreatedKey(key=key, secret=raw)


async def list_keys(session: AsyncSession, *, clinic_id: uuid.UUID) -> Sequence[ApiKey]:
    return await repository.list_keys(session, clinic_id)


async def get_key(session: AsyncSession, *, clinic_id: uuid.UUID, key_id: uuid.UUID) -> ApiKey:
    key = await repository.get_key(session, clinic_id=clinic_id, key_id=key_id)
    if key is None:
        raise NotFound("key not found")
    return key


async def reveal_key(
    session: AsyncSession, *, box: SecretBox, clinic_id: uuid.UUID, kind: ApiKeyKind
) -> str | None:
    """The current retrievable key of ``kind`` (Qualiphy, IntakeQ practice), or None when there is none."""
    if not KEY_FORMATS[kind].retrievable:
        raise InvalidInput(f"kind: {kind} keys are shown only once", field="kind")
    keys = await repository.active_keys_of_kind(session, kind=kind, clinic_id=clinic_id)
    if not keys or keys[0].encrypted_secret is None:
        return None
    return box.decrypt(keys[0].encrypted_secret)


async def revoke_key(
    session: AsyncSession,
    *,
    clinic_id: uuid.UUID,
    key_id: uuid.UUID,
    actor: Actor,
    clock: Clock = system_clock,
) -> ApiKey:
    key = await get_key(session, clinic_id=clinic_id, key_id=key_id)
    if key.revoked_at is None:
        key.revoked_at = clock.now()
        await audit_service.record(
            session,
            clinic_id=clinic_id,
            actor=actor,
            action="api_key.revoked",
            target_type="api_key",
            target_id=key.id,
            details={"kind": key.kind, "prefix": key.prefix},
            clock=clock,
        )
    return key


def key_touch_due(key: ApiKey, now: datetime) -> bool:
    """Whether the key's ``last_used_at`` is older than ``KEY_TOUCH_INTERVAL`` (or unset)."""
    return key.last_used_at is None or now - key.last_used_at >= KEY_TOUCH_INTERVAL


def show_touch(key: ApiKey, now: datetime) -> None:
    """Show ``now`` as the key's ``last_used_at`` without making it a change to write: a reader's key
    lookup shows the touch at once and queues the write (``touch_key``) for a writer of its own."""
    set_committed_value(key, "last_used_at", now)


async def touch_key(session: AsyncSession, *, key_id: uuid.UUID, now: datetime) -> None:
    """Set the key's ``last_used_at`` to ``now`` unless another request did within the interval: the
    write a read-only request's key lookup queues for a writer of its own."""
    await session.execute(
        update(ApiKey)
        .where(
            ApiKey.id == key_id,
            or_(ApiKey.last_used_at.is_(None), ApiKey.last_used_at <= now - KEY_TOUCH_INTERVAL),
        )
        .values(last_used_at=now)
    )


async def authenticate_key(
    session: AsyncSession, *, kind: ApiKeyKind, raw: str, clock: Clock = system_clock, touch: bool = True
) -> AuthenticatedKey:
    """Find the active key ``raw`` of ``kind`` by its prefix and compare digests in constant time.
    With ``touch`` its ``last_used_at`` is refreshed in ``session`` when due (``key_touch_due``); without,
    the caller does it (``touch_key``) in a transaction of its own."""
    prefix = KEY_FORMATS[kind].lookup_prefix(raw)
    if prefix is None:
        raise Unauthorized("invalid API key")
    digest = sha256_hex(raw)
    match = next(
        (
            (key, clinic)
            for key, clinic in await repository.keys_with_prefix(session, kind=kind, prefix=prefix)
            if digests_match(key.digest, digest)
        ),
        None,
    )
    if match is None or match[0].revoked_at is not None:
        raise Unauthorized("invalid API key")
    key, clinic = match
    if touch:
        now = clock.now()
        if key_touch_due(key, now):
            key.last_used_at = now
    return AuthenticatedKey(key=key, clinic=clinic)


async def authenticate_clinic_key(
    session: AsyncSession, *, kind: ApiKeyKind, raw: str, clock: Clock = system_clock, touch: bool = True
) -> ClinicCaller:
    """A clinic's key of ``kind``; a key that belongs to no clinic (a partner's) is no clinic key."""
    authenticated = await authenticate_key(session, kind=kind, raw=raw, clock=clock, touch=touch)
    if authenticated.clinic is None or authenticated.clinic.deleted_at is not None:
        raise Unauthorized("invalid API key")
    return ClinicCaller(key=authenticated.key, clinic=authenticated.clinic)


async def authenticate_partner_key(
    session: AsyncSession, *, raw: str, clock: Clock = system_clock
) -> PartnerCaller:
    """A partner's key (IntakeQ partner API); a clinic's key is no partner key."""
    authenticated = await authenticate_key(session, kind=ApiKeyKind.intakeq_partner, raw=raw, clock=clock)
    partner_id = authenticated.key.partner_id
    partner = await repository.get_partner(session, partner_id) if partner_id is not None else None
    if partner is None:
        raise Unauthorized("invalid API key")
    return PartnerCaller(key=authenticated.key, partner=partner)


async def revoke_clinic_keys(
    session: AsyncSession, *, clinic_id: uuid.UUID, actor: Actor, clock: Clock = system_clock
) -> int:
    """Revoke every active key of the clinic at once (a deleted clinic answers no key any more)."""
    keys = await repository.active_keys_of_clinic(session, clinic_id)
    for key in keys:
        await revoke_key(session, clinic_id=clinic_id, key_id=key.id, actor=actor, clock=clock)
    return len(keys)
