"""IntakeQ appointments: who booked an appointment, its reminders, and email attachments

``appointments`` gains ``booked_by_client`` (booked by the client on the booking widget), ``created_by``
(the name of who booked it) and ``reminder_channel`` (email, sms, voice or none). ``booking_settings``
gains ``reminder_lead_minutes`` (how long before an appointment its reminder goes; 24 hours).
``appointment_reminders`` holds the reminders the worker sends. ``outbound_emails`` may carry one
attachment (an appointment's ``.ics``).

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-01 18:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import clinicore.kit.db

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("appointments", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("booked_by_client", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("created_by", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("reminder_channel", sa.String(length=16), nullable=True))
    with op.batch_alter_table("appointments", schema=None) as batch_op:
        batch_op.alter_column("booked_by_client", server_default=None)

    with op.batch_alter_table("booking_settings", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("reminder_lead_minutes", sa.Integer(), nullable=False, server_default="1440")
        )
    with op.batch_alter_table("booking_settings", schema=None) as batch_op:
        batch_op.alter_column("reminder_lead_minutes", server_default=None)

    with op.batch_alter_table("outbound_emails", schema=None) as batch_op:
        batch_op.add_column(sa.Column("attachment_name", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("attachment_type", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("attachment_content", sa.LargeBinary(), nullable=True))

    op.create_table(
        "appointment_reminders",
        sa.Column("clinic_id", sa.Uuid(), nullable=False),
        sa.Column("appointment_id", sa.Uuid(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("due_at", clinicore.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("detail", sa.String(length=300), nullable=True),
        sa.Column("created_at", clinicore.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("done_at", clinicore.kit.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["appointments.id"],
            name=op.f("fk_appointment_reminders_appointment_id_appointments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["clinic_id"],
            ["clinics.id"],
            name=op.f("fk_appointment_reminders_clinic_id_clinics"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointment_reminders")),
    )
    op.create_index(
        op.f("ix_appointment_reminders_appointment_id"), "appointment_reminders", ["appointment_id"]
    )
    op.create_index("ix_appointment_reminders_status_due_at", "appointment_reminders", ["status", "due_at"])


def downgrade() -> None:
    op.drop_index("ix_appointment_reminders_status_due_at", table_name="appointment_reminders")
    op.drop_index(op.f("ix_appointment_reminders_appointment_id"), table_name="appointment_reminders")
    op.drop_table("appointment_reminders")
    with op.batch_alter_table("outbound_emails", schema=None) as batch_op:
        batch_op.drop_column("attachment_content")
        batch_op.drop_column("attachment_type")
        batch_op.drop_column("attachment_name")
    with op.batch_alter_table("booking_settings", schema=None) as batch_op:
        batch_op.drop_column("reminder_lead_minutes")
    with op.batch_alter_table("appointments", schema=None) as batch_op:
        batch_op.drop_column("reminder_channel")
        batch_op.drop_column("created_by")
        batch_op.drop_column("booked_by_client")
