"""IntakeQ clients: client tags and custom fields

New tables: ``client_tags`` (a clinic's labels on its clients, one per client and lower-case tag),
``client_fields`` (a clinic's custom profile fields) and ``client_field_values`` (each client's values).
No data moves.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-01 18:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import clinicore.kit.db

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "client_tags",
        sa.Column("clinic_id", sa.Uuid(), nullable=False),
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.Column("tag", sa.String(length=50), nullable=False),
        sa.Column("tag_key", sa.String(length=200), nullable=False),
        sa.Column("created_at", clinicore.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name=op.f("fk_client_tags_client_id_clients"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinics.id"], name=op.f("fk_client_tags_clinic_id_clinics"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_client_tags")),
        sa.UniqueConstraint("client_id", "tag_key", name=op.f("uq_client_tags_client_id_tag_key")),
    )
    with op.batch_alter_table("client_tags", schema=None) as batch_op:
        batch_op.create_index("ix_client_tags_clinic_id_tag_key", ["clinic_id", "tag_key"], unique=False)

    op.create_table(
        "client_fields",
        sa.Column("clinic_id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("created_at", clinicore.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinics.id"], name=op.f("fk_client_fields_clinic_id_clinics"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_client_fields")),
        sa.UniqueConstraint("clinic_id", "key", name=op.f("uq_client_fields_clinic_id_key")),
    )

    op.create_table(
        "client_field_values",
        sa.Column("clinic_id", sa.Uuid(), nullable=False),
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.Column("field_id", sa.Uuid(), nullable=False),
        sa.Column("value", sa.String(length=1000), nullable=False),
        sa.Column("updated_at", clinicore.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["clients.id"],
            name=op.f("fk_client_field_values_client_id_clients"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["clinic_id"],
            ["clinics.id"],
            name=op.f("fk_client_field_values_clinic_id_clinics"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["field_id"],
            ["client_fields.id"],
            name=op.f("fk_client_field_values_field_id_client_fields"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_client_field_values")),
        sa.UniqueConstraint("client_id", "field_id", name=op.f("uq_client_field_values_client_id_field_id")),
    )
    with op.batch_alter_table("client_field_values", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_client_field_values_field_id"), ["field_id"], unique=False)


def downgrade() -> None:
    op.drop_table("client_field_values")
    op.drop_table("client_fields")
    op.drop_table("client_tags")
