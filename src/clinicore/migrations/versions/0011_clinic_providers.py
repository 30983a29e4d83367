"""clinic providers: the network's providers each clinic works with

Revision ID: 0011
Revises: 0009
Create Date: 2026-12-01 15:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import clinicore.kit.db

revision: str = "0011"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "clinic_providers",
        sa.Column("clinic_id", sa.Uuid(), nullable=False),
        sa.Column("provider_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", clinicore.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["clinic_id"],
            ["clinics.id"],
            name=op.f("fk_clinic_providers_clinic_id_clinics"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["providers.id"],
            name=op.f("fk_clinic_providers_provider_id_providers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("clinic_id", "provider_id", name=op.f("pk_clinic_providers")),
    )
    with op.batch_alter_table("clinic_providers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_clinic_providers_provider_id"), ["provider_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("clinic_providers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_clinic_providers_provider_id"))
    op.drop_table("clinic_providers")
