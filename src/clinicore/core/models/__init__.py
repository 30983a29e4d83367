"""Every ORM table, imported here so that Alembic and the app see one metadata."""

from clinicore.core.models.audit import AuditEntry
from clinicore.core.models.base import Base
from clinicore.core.models.tenancy import (
    ApiKey,
    ApiKeyKind,
    Clinic,
    ClinicUser,
    ClinicUserRole,
    ConsoleSession,
    Partner,
)

__all__ = [
    "ApiKey",
    "ApiKeyKind",
    "AuditEntry",
    "Base",
    "Clinic",
    "ClinicUser",
    "ClinicUserRole",
    "ConsoleSession",
    "Partner",
]
