"""A partner's white-label brand and hosts

New columns on ``partners``: the brand (``brand_name``, ``brand_logo_url``, ``brand_color``,
``brand_accent_color``), the hosts it serves (``host_names``), the hosts a filled form may redirect to
(``allowed_redirect_hosts``), the origins that may embed the console (``frame_origins``), the staff
notification link template (``form_notification_url``) and ``updated_at``. Existing partners get empty
lists and no brand (Clinicore's own look).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 18:15:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import clinicore.kit.db

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("partners", schema=None) as batch_op:
        batch_op.add_column(sa.Column("brand_name", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("brand_logo_url", sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column("brand_color", sa.String(length=7), nullable=True))
        batch_op.add_column(sa.Column("brand_accent_color", sa.String(length=7), nullable=True))
        batch_op.add_column(sa.Column("host_names", sa.JSON(), nullable=False, server_default="[]"))
        batch_op.add_column(
            sa.Column("allowed_redirect_hosts", sa.JSON(), nullable=False, server_default="[]")
        )
        batch_op.add_column(sa.Column("frame_origins", sa.JSON(), nullable=False, server_default="[]"))
        batch_op.add_column(sa.Column("form_notification_url", sa.String(length=500), nullable=True))
        batch_op.add_column(
            sa.Column("updated_at", clinicore.kit.db.UTCDateTime(timezone=True), nullable=True)
        )
    with op.batch_alter_table("partners", schema=None) as batch_op:
        batch_op.alter_column("host_names", server_default=None)
        batch_op.alter_column("allowed_redirect_hosts", server_default=None)
        batch_op.alter_column("frame_origins", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("partners", schema=None) as batch_op:
        for column in (
            "updated_at",
            "form_notification_url",
            "frame_origins",
            "allowed_redirect_hosts",
            "host_names",
            "brand_accent_color",
            "brand_color",
            "brand_logo_url",
            "brand_name",
        ):
            batch_op.drop_column(column)
