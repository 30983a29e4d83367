"""Partner console users and their sessions

New tables ``partner_users`` (a partner's people who sign in to the partner console: email unique,
argon2id password hash) and ``partner_console_sessions`` (the digest of the cookie's token, the CSRF
token of the session's pages, the expiry).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01 18:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import clinicore.kit.db

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "partner_users",
        sa.Column("partner_id", sa.Uuid(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", clinicore.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_login_at", clinicore.kit.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["partners.id"],
            name=op.f("fk_partner_users_partner_id_partners"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partner_users")),
        sa.UniqueConstraint("email", name=op.f("uq_partner_users_email")),
    )
    with op.batch_alter_table("partner_users", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_partner_users_partner_id"), ["partner_id"], unique=False)

    op.create_table(
        "partner_console_sessions",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("token_digest", sa.String(length=64), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", clinicore.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", clinicore.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["partner_users.id"],
            name=op.f("fk_partner_console_sessions_user_id_partner_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partner_console_sessions")),
        sa.UniqueConstraint("token_digest", name=op.f("uq_partner_console_sessions_token_digest")),
    )
    with op.batch_alter_table("partner_console_sessions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_partner_console_sessions_expires_at"), ["expires_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_partner_console_sessions_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("partner_console_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_partner_console_sessions_user_id"))
        batch_op.drop_index(batch_op.f("ix_partner_console_sessions_expires_at"))
    op.drop_table("partner_console_sessions")
    with op.batch_alter_table("partner_users", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_partner_users_partner_id"))
    op.drop_table("partner_users")
