"""Staff roles: a partner's master roles, by name, each a set of permissions.

``Administrator`` always exists (no row: it may do everything) and is the role given when none is named.
A clinic of a partner uses that partner's roles; a clinic without a partner has ``Administrator`` only.
Names are matched without case and stored as the role spells itself.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, fields

from sqlalchemy.ext.asyncio import AsyncSession

from clinicore.core.audit import service as audit_service
from clinicore.core.audit.service import Actor
from clinicore.core.models import Clinic, StaffRole
from clinicore.core.staff import repository
from clinicore.kit.clock import Clock, system_clock
from clinicore.kit.errors import InvalidInput, NotFound

ADMINISTRATOR = "Administrator"
MAX_ROLE_NAME = 100


@dataclass(frozen=True, slots=True)
class Permissions:
    send_forms: bool = False
    open_forms: bool = False
    edit_templates: bool = False
    change_settings: bool = False
    book: bool = False
    see_reports: bool = False

    @classmethod
    def everything(cls) -> Permissions:
        return cls(**{field.name: True for field in fields(cls)})


@dataclass(frozen=True, slots=True)
class Role:
    name: str
    permissions: Permissions


def _permissions_of(row: StaffRole) -> Permissions:
    return Permissions(
        **{field.name: bool(getattr(row, f"may_{field.name}")) for field in fields(Permissions)}
    )


async def define_role(
    session: AsyncSession,
    *,
    partner_id: uuid.UUID,
    name: str,
    permissions: Permissions,
    clock: Clock = system_clock,
) -> Role:
    """Create the partner's role ``name`` or replace its permissions. ``Administrator`` cannot change."""
    name = name.strip()
    if not name or len(name) > MAX_ROLE_NAME:
        raise InvalidInput(f"role_name: must be 1 to {MAX_ROLE_NAME} characters", field="role_name")
    if name.lower() == ADMINISTRATOR.lower():
        raise InvalidInput("role_name: Administrator always exists and may do everything", field="role_name")
    values = {f"may_{field.name}": getattr(permissions, field.name) for field in fields(Permissions)}
    now = clock.now()
    row = await repository.role_named(session, partner_id=partner_id, name=name)
    if row is None:
        row = StaffRole(partner_id=partner_id, name=name, created_at=now, updated_at=now, **values)
        session.add(row)
    else:
        for column, value in values.items():
            setattr(row, column, value)
        row.updated_at = now
    await session.flush()
    return Role(name=row.name, permissions=permissions)


async def list_roles(session: AsyncSession, *, partner_id: uuid.UUID | None) -> Sequence[Role]:
    """The roles a partner's clinics may give: ``Administrator`` first."""
    rows = await repository.list_roles(session, partner_id) if partner_id is not None else []
    return [
        Role(ADMINISTRATOR, Permissions.everything()),
        *(Role(row.name, _permissions_of(row)) for row in rows),
    ]


async def role_for(session: AsyncSession, *, clinic: Clinic, name: str | None) -> Role:
    """The role ``name`` as the clinic's partner defines it (``Administrator`` when not given);
    an unknown name is invalid input."""
    wanted = (name or "").strip() or ADMINISTRATOR
    if wanted.lower() == ADMINISTRATOR.lower():
        return Role(ADMINISTRATOR, Permissions.everything())
    row = (
        await repository.role_named(session, partner_id=clinic.partner_id, name=wanted)
        if clinic.partner_id is not None and len(wanted) <= MAX_ROLE_NAME
        else None
    )
    if row is None:
        raise InvalidInput(
            f"role_name: no role named {wanted!r}; the roles are defined by the partner",
            field="role_name",
            rule="staff.unknown_role",
        )
    return Role(row.name, _permissions_of(row))


# --- the partner console: a role is created once, changed while it exists, deleted while nobody holds it


async def create_role(
    session: AsyncSession,
    *,
    partner_id: uuid.UUID,
    name: str,
    permissions: Permissions,
    actor: Actor = audit_service.SYSTEM,
    clock: Clock = system_clock,
) -> Role:
    """A new role of the partner; a name the partner already uses (without case) is refused."""
    if await repository.role_named(session, partner_id=partner_id, name=name.strip()) is not None:
        raise InvalidInput(f"role_name: a role named {name.strip()!r} already exists", field="role_name")
    role = await define_role(session, partner_id=partner_id, name=name, permissions=permissions, clock=clock)
    await _record(session, partner_id, "role.created", role.name, actor, clock)
    return role


async def change_role(
    session: AsyncSession,
    *,
    partner_id: uuid.UUID,
    name: str,
    permissions: Permissions,
    actor: Actor = audit_service.SYSTEM,
    clock: Clock = system_clock,
) -> Role:
    """New permissions for an existing role of the partner (another partner's role is not found)."""
    if name.strip().lower() != ADMINISTRATOR.lower():
        row = await repository.role_named(session, partner_id=partner_id, name=name.strip()[:MAX_ROLE_NAME])
        if row is None:
            raise NotFound(f"role_name: no role named {name.strip()[:MAX_ROLE_NAME]!r}", field="role_name")
    role = await define_role(session, partner_id=partner_id, name=name, permissions=permissions, clock=clock)
    await _record(session, partner_id, "role.changed", role.name, actor, clock)
    return role


async def delete_role(
    session: AsyncSession,
    *,
    partner_id: uuid.UUID,
    name: str,
    actor: Actor = audit_service.SYSTEM,
    clock: Clock = system_clock,
) -> None:
    """Delete the partner's role, refused while any of its practices' staff holds it (a practitioner or
    an assistant, disabled ones included): a holder would be left with a role that no longer exists."""
    wanted = name.strip()
    if wanted.lower() == ADMINISTRATOR.lower():
        raise InvalidInput("role_name: Administrator always exists and cannot be deleted", field="role_name")
    row = await repository.role_named(session, partner_id=partner_id, name=wanted[:MAX_ROLE_NAME])
    if row is None:
        raise NotFound(f"role_name: no role named {wanted[:MAX_ROLE_NAME]!r}", field="role_name")
    holders = await repository.count_role_holders(session, partner_id=partner_id, name=row.name)
    if holders:
        raise InvalidInput(
            f"role_name: {holders} staff member(s) hold the role {row.name!r}; give them another role first",
            field="role_name",
            rule="staff.role_in_use",
        )
    await repository.delete_role(session, row)
    await session.flush()
    await _record(session, partner_id, "role.deleted", row.name, actor, clock)


async def _record(
    session: AsyncSession, partner_id: uuid.UUID, action: str, name: str, actor: Actor, clock: Clock
) -> None:
    await audit_service.record(
        session,
        clinic_id=None,
        actor=actor,
        action=action,
        target_type="role",
        details={"partner_id": str(partner_id), "role_name": name},
        clock=clock,
    )
