"""Booking widget: each clinic's client booking settings (confirmation, how late a client may change).

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-01 18:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import clinicore.kit.db

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "booking_widget_settings",
        sa.Column("clinic_id", sa.Uuid(), nullable=False),
        sa.Column("requires_confirmation", sa.Boolean(), nullable=False),
        sa.Column("client_change_notice_hours", sa.Integer(), nullable=False),
        sa.Column("updated_at", clinicore.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "client_change_notice_hours BETWEEN 0 AND 720",
            name=op.f("ck_booking_widget_settings_client_change_notice_range"),
        ),
        sa.ForeignKeyConstraint(
            ["clinic_id"],
            ["clinics.id"],
            name=op.f("fk_booking_widget_settings_clinic_id_clinics"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("clinic_id", name=op.f("pk_booking_widget_settings")),
    )


def downgrade() -> None:
    op.drop_table("booking_widget_settings")
