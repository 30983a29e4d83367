"""Webhook delivery leases: per-aggregate strict order (on for Qualiphy endpoints, which promise it), the
receiver's answer time, the claim index.

Every worker now claims deliveries with a committed lease (claimed_by, claimed_until, which exist
since 0002) on both databases; the new index finds an endpoint's due deliveries for the claim.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-01 18:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import clinicore.kit.db

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("webhook_endpoints", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("strict_order", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    # Qualiphy endpoints keep the order they had: events of one meeting one at a time, in order.
    op.execute(sa.text("UPDATE webhook_endpoints SET strict_order = true WHERE format = 'qualiphy'"))
    with op.batch_alter_table("webhook_attempts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("responded_at", clinicore.kit.db.UTCDateTime(timezone=True), nullable=True)
        )
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_webhook_deliveries_endpoint_id_status_next_attempt_at"),
            ["endpoint_id", "status", "next_attempt_at"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_webhook_deliveries_endpoint_id_status_next_attempt_at"))
    with op.batch_alter_table("webhook_attempts", schema=None) as batch_op:
        batch_op.drop_column("responded_at")
    with op.batch_alter_table("webhook_endpoints", schema=None) as batch_op:
        batch_op.drop_column("strict_order")
