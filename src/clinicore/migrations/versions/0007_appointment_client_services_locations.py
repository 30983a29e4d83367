"""appointments get a client, a service and a location

Adds the clinic's service catalog (``services``: name, length, price) and its ``locations`` (with a
per-clinic ``number``, IntakeQ's ``LocationId``), and gives each appointment the client it is for, its
service, its location and the price it was sold at. A lead keeps the client it became when it booked
(``leads.client_id``).

Only tables and nullable columns are added: no data moves. Appointments booked before this revision keep
no client; a lead's next booking links it.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 14:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import clinicore.kit.db

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "locations",
        sa.Column("clinic_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("address_line_1", sa.String(length=200), nullable=True),
        sa.Column("address_line_2", sa.String(length=200), nullable=True),
        sa.Column("city", sa.String(length=100), nullable=True),
        sa.Column("state", sa.String(length=100), nullable=True),
        sa.Column("zip_code", sa.String(length=20), nullable=True),
        sa.Column("time_zone", sa.String(length=64), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", clinicore.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", clinicore.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinics.id"], name=op.f("fk_locations_clinic_id_clinics"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_locations")),
        sa.UniqueConstraint("clinic_id", "name", name=op.f("uq_locations_clinic_id_name")),
        sa.UniqueConstraint("clinic_id", "number", name=op.f("uq_locations_clinic_id_number")),
    )
    op.create_table(
        "services",
        sa.Column("clinic_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("duration_minutes", sa.Integer(), nullable=False),
        sa.Column("price", sa.Numeric(precision=10, scale=2), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", clinicore.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", clinicore.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint("duration_minutes BETWEEN 5 AND 1440", name=op.f("ck_services_duration_range")),
        sa.CheckConstraint("price >= 0", name=op.f("ck_services_price_not_negative")),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinics.id"], name=op.f("fk_services_clinic_id_clinics"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_services")),
        sa.UniqueConstraint("clinic_id", "name", name=op.f("uq_services_clinic_id_name")),
    )
    with op.batch_alter_table("appointments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("client_id", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("service_id", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("location_id", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("price", sa.Numeric(precision=10, scale=2), nullable=True))
        batch_op.create_index("ix_appointments_clinic_id_client_id", ["clinic_id", "client_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_appointments_client_id_clients"),
            "clients",
            ["client_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_appointments_service_id_services"),
            "services",
            ["service_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_appointments_location_id_locations"),
            "locations",
            ["location_id"],
            ["id"],
            ondelete="SET NULL",
        )

    with op.batch_alter_table("leads", schema=None) as batch_op:
        batch_op.add_column(sa.Column("client_id", sa.Uuid(), nullable=True))
        batch_op.create_index(batch_op.f("ix_leads_client_id"), ["client_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_leads_client_id_clients"), "clients", ["client_id"], ["id"], ondelete="SET NULL"
        )


def downgrade() -> None:
    with op.batch_alter_table("leads", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_leads_client_id_clients"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_leads_client_id"))
        batch_op.drop_column("client_id")

    with op.batch_alter_table("appointments", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_appointments_location_id_locations"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("fk_appointments_service_id_services"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("fk_appointments_client_id_clients"), type_="foreignkey")
        batch_op.drop_index("ix_appointments_clinic_id_client_id")
        batch_op.drop_column("price")
        batch_op.drop_column("location_id")
        batch_op.drop_column("service_id")
        batch_op.drop_column("client_id")

    op.drop_table("services")
    op.drop_table("locations")
