"""IntakeQ partner practices: staff roles, assistants, practitioner identity, client ownership

A partner's practices are clinics: a clinic gets its ``forms_enabled``/``booking_enabled`` switches (on
for every clinic that exists) and ``deleted_at`` (a partner's delete hides it, its records stay).
Practitioners get their first and last names, an external id unique in the clinic, a staff role name
(``Administrator`` for those that exist) and the clinic's main-user flag; a client gets the practitioner
who owns it. New tables: ``staff_roles`` (a partner's master roles), ``assistants`` and the practitioners
each assistant may act for.

Only tables and columns with defaults are added: no data moves.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 15:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import clinicore.kit.db

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("clinics", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("forms_enabled", sa.Boolean(), nullable=False, server_default=sa.true())
        )
        batch_op.add_column(
            sa.Column("booking_enabled", sa.Boolean(), nullable=False, server_default=sa.true())
        )
        batch_op.add_column(
            sa.Column("deleted_at", clinicore.kit.db.UTCDateTime(timezone=True), nullable=True)
        )
    with op.batch_alter_table("clinics", schema=None) as batch_op:
        batch_op.alter_column("forms_enabled", server_default=None)
        batch_op.alter_column("booking_enabled", server_default=None)

    with op.batch_alter_table("practitioners", schema=None) as batch_op:
        batch_op.add_column(sa.Column("first_name", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("last_name", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("external_id", sa.String(length=200), nullable=True))
        batch_op.add_column(
            sa.Column("role_name", sa.String(length=100), nullable=False, server_default="Administrator")
        )
        batch_op.add_column(sa.Column("is_main", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.create_unique_constraint(
            batch_op.f("uq_practitioners_clinic_id_external_id"), ["clinic_id", "external_id"]
        )
    with op.batch_alter_table("practitioners", schema=None) as batch_op:
        batch_op.alter_column("role_name", server_default=None)
        batch_op.alter_column("is_main", server_default=None)

    with op.batch_alter_table("clients", schema=None) as batch_op:
        batch_op.add_column(sa.Column("practitioner_id", sa.Uuid(), nullable=True))
        batch_op.create_index(batch_op.f("ix_clients_practitioner_id"), ["practitioner_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_clients_practitioner_id_practitioners"),
            "practitioners",
            ["practitioner_id"],
            ["id"],
            ondelete="SET NULL",
        )

    op.create_table(
        "staff_roles",
        sa.Column("partner_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("may_send_forms", sa.Boolean(), nullable=False),
        sa.Column("may_open_forms", sa.Boolean(), nullable=False),
        sa.Column("may_edit_templates", sa.Boolean(), nullable=False),
        sa.Column("may_change_settings", sa.Boolean(), nullable=False),
        sa.Column("may_book", sa.Boolean(), nullable=False),
        sa.Column("may_see_reports", sa.Boolean(), nullable=False),
        sa.Column("created_at", clinicore.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", clinicore.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["partners.id"],
            name=op.f("fk_staff_roles_partner_id_partners"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_roles")),
        sa.UniqueConstraint("partner_id", "name", name=op.f("uq_staff_roles_partner_id_name")),
    )
    op.create_table(
        "assistants",
        sa.Column("clinic_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("role_name", sa.String(length=100), nullable=False),
        sa.Column("external_id", sa.String(length=200), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", clinicore.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", clinicore.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinics.id"], name=op.f("fk_assistants_clinic_id_clinics"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assistants")),
        sa.UniqueConstraint("clinic_id", "external_id", name=op.f("uq_assistants_clinic_id_external_id")),
    )
    with op.batch_alter_table("assistants", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_assistants_clinic_id"), ["clinic_id"], unique=False)
    op.create_table(
        "assistant_practitioners",
        sa.Column("assistant_id", sa.Uuid(), nullable=False),
        sa.Column("practitioner_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["assistant_id"],
            ["assistants.id"],
            name=op.f("fk_assistant_practitioners_assistant_id_assistants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["practitioner_id"],
            ["practitioners.id"],
            name=op.f("fk_assistant_practitioners_practitioner_id_practitioners"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("assistant_id", "practitioner_id", name=op.f("pk_assistant_practitioners")),
    )
    with op.batch_alter_table("assistant_practitioners", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_assistant_practitioners_practitioner_id"), ["practitioner_id"], unique=False
        )


def downgrade() -> None:
    op.drop_table("assistant_practitioners")
    op.drop_table("assistants")
    op.drop_table("staff_roles")
    with op.batch_alter_table("clients", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_clients_practitioner_id_practitioners"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_clients_practitioner_id"))
        batch_op.drop_column("practitioner_id")
    with op.batch_alter_table("practitioners", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_practitioners_clinic_id_external_id"), type_="unique")
        for column in ("is_main", "role_name", "external_id", "last_name", "first_name"):
            batch_op.drop_column(column)
    with op.batch_alter_table("clinics", schema=None) as batch_op:
        for column in ("deleted_at", "booking_enabled", "forms_enabled"):
            batch_op.drop_column(column)
