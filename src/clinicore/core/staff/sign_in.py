"""Single sign-on of a practice's staff into the console, and what a signed-in user may do there.

- A partner asks for a sign-on token for one of its practice's practitioners or assistants (our id or
  the external id; none named: the practice's main practitioner). The token is random (256 bits), single
  use, good for ``TOKEN_LIFETIME`` if unused, and stored as its SHA-256 digest only.
- Each staff member signed in this way has a console user of its own (``ClinicUser`` linked to the
  practitioner or assistant), made on its first token, without a password: it can never sign in by email.
- Using the token consumes it in one conditional update, so that of two concurrent uses one only
  passes; any use consumes it, a refused one too. The user named with it must be the token's. It opens a
  console session of exactly ``SESSION_LIFETIME`` (not sliding).
- A disabled practitioner or assistant, or a deleted practice, gets no token, cannot use one, and its
  open sessions stop working at their next request.
- What a signed-in user may do is the one table's (core/tenancy/permissions.py): its staff role's
  permissions (``roles.role_for``); a user signed in with a password, its console role's.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass, fields
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from clinicore.core.audit import service as audit_service
from clinicore.core.audit.service import Actor
from clinicore.core.models import (
    Assistant,
    Clinic,
    ClinicUser,
    ClinicUserRole,
    ConsoleSignInToken,
    Practitioner,
)
from clinicore.core.staff import repository as staff_repository
from clinicore.core.staff import roles
from clinicore.core.staff.roles import Permissions
from clinicore.core.tenancy import permissions as permission_table
from clinicore.core.tenancy import practices as practice_service
from clinicore.core.tenancy import service as tenancy_service
from clinicore.core.tenancy.permissions import Permission
from clinicore.core.tenancy.schemas import OpenedSession, SignedInUser
from clinicore.kit.clock import Clock, system_clock
from clinicore.kit.crypto import sha256_hex
from clinicore.kit.errors import InvalidInput, NotFound, Unauthorized

TOKEN_LIFETIME = timedelta(minutes=5)
SESSION_LIFETIME = timedelta(hours=1)
MAX_REFERENCE = 200
MAX_TOKEN = 200

Staff = Practitioner | Assistant


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str  # given to the partner once; only its digest is kept
    staff_id: uuid.UUID  # the practitioner's or assistant's id
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class StaffSignIn:
    user: ClinicUser
    opened: OpenedSession


def _bounded(reference: str | None) -> str:
    cleaned = (reference or "").strip()
    return cleaned if len(cleaned) <= MAX_REFERENCE and "\x00" not in cleaned else ""


def _our_id(reference: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(reference)
    except ValueError:
        return None


# --- the staff member behind a reference or a console user ------------------------------------------


async def _staff_named(session: AsyncSession, *, clinic_id: uuid.UUID, reference: str) -> Staff | None:
    """The clinic's practitioner, else assistant, whose id or external id is ``reference``."""
    our_id = _our_id(reference)
    if our_id is not None:
        found: Staff | None = await staff_repository.get_practitioner(
            session, clinic_id=clinic_id, practitioner_id=our_id
        ) or await staff_repository.get_assistant(session, clinic_id=clinic_id, assistant_id=our_id)
        if found is not None:
            return found
    return await staff_repository.practitioner_by_external_id(
        session, clinic_id=clinic_id, external_id=reference
    ) or await staff_repository.assistant_by_external_id(session, clinic_id=clinic_id, external_id=reference)


async def _staff_of(session: AsyncSession, user: ClinicUser) -> Staff | None:
    if user.practitioner_id is not None:
        return await staff_repository.get_practitioner(
            session, clinic_id=user.clinic_id, practitioner_id=user.practitioner_id
        )
    if user.assistant_id is not None:
        return await staff_repository.get_assistant(
            session, clinic_id=user.clinic_id, assistant_id=user.assistant_id
        )
    return None


def _may_sign_in(clinic: Clinic, staff: Staff) -> bool:
    return staff.is_active and clinic.is_active and clinic.deleted_at is None


def _is_named_by(staff: Staff, reference: str) -> bool:
    our_id = _our_id(reference)
    return (our_id is not None and our_id == staff.id) or (
        staff.external_id is not None and staff.external_id == reference
    )


async def _console_user_of(session: AsyncSession, *, staff: Staff, clock: Clock) -> ClinicUser:
    """The staff member's console user (made on its first sign-on), its name and email kept current."""
    column = ClinicUser.practitioner_id if isinstance(staff, Practitioner) else ClinicUser.assistant_id
    user = await session.scalar(select(ClinicUser).where(column == staff.id))
    if user is None:
        user = ClinicUser(
            clinic_id=staff.clinic_id,
            email=staff.email or "",
            name=staff.name,
            password_hash=None,
            role=ClinicUserRole.staff,
            practitioner_id=staff.id if isinstance(staff, Practitioner) else None,
            assistant_id=staff.id if isinstance(staff, Assistant) else None,
            created_at=clock.now(),
        )
        try:
            async with session.begin_nested():
                session.add(user)
        except IntegrityError:  # a concurrent first sign-on made it: use that one
            found = await session.scalar(select(ClinicUser).where(column == staff.id))
            if found is None:
                raise
            user = found
    else:
        user.name, user.email = staff.name, staff.email or ""
    return user


# --- tokens and sessions --------------------------------------------------------------------------


async def issue_token(
    session: AsyncSession,
    *,
    partner_id: uuid.UUID,
    practice: str,
    user: str | None,
    actor: Actor,
    clock: Clock = system_clock,
) -> IssuedToken:
    """A sign-on token for the partner's practice ``practice`` and its staff member ``user`` (our id or
    external id; none: the main practitioner). Another practice's or an unknown user is missing."""
    clinic = await practice_service.practice_of_partner(session, partner_id=partner_id, reference=practice)
    reference = _bounded(user)
    if reference:
        staff = await _staff_named(session, clinic_id=clinic.id, reference=reference)
    elif user is not None and user.strip():
        staff = None  # too long or unstorable: no such user
    else:
        staff = await staff_repository.main_practitioner(session, clinic.id)
    if staff is None:
        raise NotFound("user not found")
    if not _may_sign_in(clinic, staff):
        raise InvalidInput("the user is disabled and cannot sign in", rule="staff.sign_in_disabled")
    console_user = await _console_user_of(session, staff=staff, clock=clock)
    token = secrets.token_hex(32)
    now = clock.now()
    # The user's spent and expired tokens are of no more use: they go as new ones come.
    await session.execute(
        delete(ConsoleSignInToken).where(
            ConsoleSignInToken.user_id == console_user.id,
            or_(ConsoleSignInToken.expires_at <= now, ConsoleSignInToken.used_at.is_not(None)),
        )
    )
    row = ConsoleSignInToken(
        clinic_id=clinic.id,
        user_id=console_user.id,
        token_digest=sha256_hex(token),
        created_at=now,
        expires_at=now + TOKEN_LIFETIME,
    )
    session.add(row)
    await session.flush()
    await audit_service.record(
        session,
        clinic_id=clinic.id,
        actor=actor,
        action="user.sign_on_token_issued",
        target_type="user",
        target_id=console_user.id,
        clock=clock,
    )
    return IssuedToken(token=token, staff_id=staff.id, expires_at=row.expires_at)


REFUSED = "This sign-in link is not valid: it was already used, it has expired, or it is not ours."


async def _consume(session: AsyncSession, *, token: str, now: datetime) -> ConsoleSignInToken | None:
    """Mark the token used if it is unused and unexpired, in one conditional update: of two concurrent
    uses, one only changes the row."""
    digest = sha256_hex(token)
    result = await session.execute(
        update(ConsoleSignInToken)
        .where(
            ConsoleSignInToken.token_digest == digest,
            ConsoleSignInToken.used_at.is_(None),
            ConsoleSignInToken.expires_at > now,
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if int(result.rowcount or 0) != 1:  # type: ignore[attr-defined]
        return None
    return await session.scalar(select(ConsoleSignInToken).where(ConsoleSignInToken.token_digest == digest))


async def sign_in_with_token(
    session: AsyncSession, *, token: str | None, user: str | None, clock: Clock = system_clock
) -> StaffSignIn:
    """Use a sign-on token: its user must be ``user`` (our id or external id). Opens a console session of
    ``SESSION_LIFETIME``. A used, expired, unknown or mismatched token is ``Unauthorized``."""
    token = (token or "").strip()
    if not token or len(token) > MAX_TOKEN or "\x00" in token:
        raise Unauthorized(REFUSED)
    used = await _consume(session, token=token, now=clock.now())
    if used is None:
        raise Unauthorized(REFUSED)
    console_user = await session.get(ClinicUser, used.user_id)
    staff = await _staff_of(session, console_user) if console_user is not None else None
    clinic = await tenancy_service.get_clinic(session, used.clinic_id)
    reference = _bounded(user)
    if console_user is None or staff is None or not reference or not _is_named_by(staff, reference):
        raise Unauthorized(REFUSED)
    if not _may_sign_in(clinic, staff):
        raise Unauthorized("This user is disabled and cannot sign in.")
    console_user.name, console_user.email = staff.name, staff.email or ""
    opened = await tenancy_service.open_session(
        session, user=console_user, lifetime=SESSION_LIFETIME, clock=clock
    )
    return StaffSignIn(user=console_user, opened=opened)


async def signed_in_user(
    session: AsyncSession, *, token: str, clock: Clock = system_clock
) -> SignedInUser | None:
    """The console's signed-in user for a session cookie: a staff member's session stops working once the
    staff member is disabled or removed, or its practice deleted."""
    signed_in = await tenancy_service.signed_in_user(session, token=token, clock=clock)
    if signed_in is None or not is_staff_user(signed_in.user):
        return signed_in
    staff = await _staff_of(session, signed_in.user)
    if staff is None or not _may_sign_in(signed_in.clinic, staff):
        return None
    return signed_in


def is_staff_user(user: ClinicUser) -> bool:
    """Signed in by single sign-on as a practitioner or assistant (not with a password)."""
    return user.practitioner_id is not None or user.assistant_id is not None


# --- permissions ----------------------------------------------------------------------------------


async def permissions_of(session: AsyncSession, *, signed_in: SignedInUser) -> Permissions:
    """What the signed-in console user may do: its staff role's permissions (a role its partner no longer
    defines: nothing), everything for a user signed in with a password."""
    if not is_staff_user(signed_in.user):
        return Permissions.everything()
    staff = await _staff_of(session, signed_in.user)
    if staff is None:
        return Permissions()
    try:
        role = await roles.role_for(session, clinic=signed_in.clinic, name=staff.role_name)
    except InvalidInput:
        return Permissions()
    return role.permissions


async def console_permissions(session: AsyncSession, *, signed_in: SignedInUser) -> frozenset[Permission]:
    """What the signed-in console user may do, from the one table (core/tenancy/permissions.py): a
    password user's console role, a single sign-on user's partner role."""
    if not is_staff_user(signed_in.user):
        return permission_table.of_console_role(signed_in.user.role)
    staff = await _staff_of(session, signed_in.user)
    if staff is None:
        return permission_table.NOTHING
    try:
        role = await roles.role_for(session, clinic=signed_in.clinic, name=staff.role_name)
    except InvalidInput:
        return permission_table.NOTHING
    flags = {field.name: bool(getattr(role.permissions, field.name)) for field in fields(role.permissions)}
    return permission_table.of_partner_role(flags, administrator=role.name == roles.ADMINISTRATOR)


async def require_permission(
    session: AsyncSession, *, signed_in: SignedInUser, permission: Permission
) -> None:
    """The one permission check of the console's pages: ``Forbidden`` when the user may not."""
    permission_table.check(await console_permissions(session, signed_in=signed_in), permission)


async def clinic_of_token(session: AsyncSession, *, token: str | None) -> uuid.UUID | None:
    """The practice a sign-on token (used, expired or not) was issued for, to dress a refusal in its
    brand; ``None`` for a token we never issued."""
    token = (token or "").strip()
    if not token or len(token) > MAX_TOKEN or "\x00" in token:
        return None
    return await session.scalar(
        select(ConsoleSignInToken.clinic_id).where(ConsoleSignInToken.token_digest == sha256_hex(token))
    )
