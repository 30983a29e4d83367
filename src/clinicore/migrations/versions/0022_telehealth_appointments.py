"""Telehealth appointments: a service may be telehealth (``services.telehealth``), and an appointment of
such a service has a video room (``appointment_rooms``, one per appointment) whose signed links open the
call page for its practitioner and its client.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-01 21:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import clinicore.kit.db

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("services", schema=None) as batch_op:
        batch_op.add_column(sa.Column("telehealth", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.create_table(
        "appointment_rooms",
        sa.Column("clinic_id", sa.Uuid(), nullable=False),
        sa.Column("appointment_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", clinicore.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["appointments.id"],
            name=op.f("fk_appointment_rooms_appointment_id_appointments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["clinic_id"],
            ["clinics.id"],
            name=op.f("fk_appointment_rooms_clinic_id_clinics"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointment_rooms")),
        sa.UniqueConstraint("appointment_id", name=op.f("uq_appointment_rooms_appointment_id")),
    )


def downgrade() -> None:
    op.drop_table("appointment_rooms")
    with op.batch_alter_table("services", schema=None) as batch_op:
        batch_op.drop_column("telehealth")
