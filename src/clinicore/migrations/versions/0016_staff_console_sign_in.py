"""Console sign-in of a practice's staff by single sign-on

``clinic_users`` may be linked to a practitioner (``practitioner_id``) or an assistant (``assistant_id``):
such a user has no password (``password_hash`` becomes nullable) and is signed in by its partner's single
sign-on only. An email stays unique among the users who have a password (a partial unique index replaces
the unique constraint). ``console_sign_in_tokens`` holds the single-use sign-on tokens (digests only).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01 18:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import clinicore.kit.db

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

HAS_PASSWORD = sa.text("password_hash IS NOT NULL")


def upgrade() -> None:
    with op.batch_alter_table("clinic_users", schema=None) as batch_op:
        batch_op.drop_constraint("uq_clinic_users_email", type_="unique")
        batch_op.alter_column("password_hash", existing_type=sa.String(length=200), nullable=True)
        batch_op.add_column(sa.Column("practitioner_id", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("assistant_id", sa.Uuid(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_clinic_users_practitioner_id_practitioners"),
            "practitioners",
            ["practitioner_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_clinic_users_assistant_id_assistants"),
            "assistants",
            ["assistant_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch_op.create_unique_constraint(batch_op.f("uq_clinic_users_practitioner_id"), ["practitioner_id"])
        batch_op.create_unique_constraint(batch_op.f("uq_clinic_users_assistant_id"), ["assistant_id"])
    op.create_index(
        "uq_clinic_users_password_email",
        "clinic_users",
        ["email"],
        unique=True,
        sqlite_where=HAS_PASSWORD,
        postgresql_where=HAS_PASSWORD,
    )

    op.create_table(
        "console_sign_in_tokens",
        sa.Column("clinic_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("token_digest", sa.String(length=64), nullable=False),
        sa.Column("created_at", clinicore.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", clinicore.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", clinicore.kit.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["clinic_id"],
            ["clinics.id"],
            name=op.f("fk_console_sign_in_tokens_clinic_id_clinics"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["clinic_users.id"],
            name=op.f("fk_console_sign_in_tokens_user_id_clinic_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_console_sign_in_tokens")),
        sa.UniqueConstraint("token_digest", name=op.f("uq_console_sign_in_tokens_token_digest")),
    )
    with op.batch_alter_table("console_sign_in_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_console_sign_in_tokens_clinic_id"), ["clinic_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_console_sign_in_tokens_user_id"), ["user_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_console_sign_in_tokens_expires_at"), ["expires_at"], unique=False
        )


def downgrade() -> None:
    op.drop_table("console_sign_in_tokens")
    # Users without a password (single sign-on only) cannot exist in the older schema: their sessions go
    # with them (ON DELETE CASCADE).
    op.execute("DELETE FROM clinic_users WHERE password_hash IS NULL")
    op.drop_index("uq_clinic_users_password_email", table_name="clinic_users")
    with op.batch_alter_table("clinic_users", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_clinic_users_assistant_id"), type_="unique")
        batch_op.drop_constraint(batch_op.f("uq_clinic_users_practitioner_id"), type_="unique")
        batch_op.drop_constraint(batch_op.f("fk_clinic_users_assistant_id_assistants"), type_="foreignkey")
        batch_op.drop_constraint(
            batch_op.f("fk_clinic_users_practitioner_id_practitioners"), type_="foreignkey"
        )
        batch_op.drop_column("assistant_id")
        batch_op.drop_column("practitioner_id")
        batch_op.alter_column("password_hash", existing_type=sa.String(length=200), nullable=False)
        batch_op.create_unique_constraint(batch_op.f("uq_clinic_users_email"), ["email"])
