"""Intakes: forms given to clients to fill

New tables: ``intakes`` (one client's copy of a form template: its questions and consent documents as
asked, the answers, the consents, the status, the encrypted 6-digit password and its lockout),
``intake_files`` (uploads and signatures, bytes in the file storage) and ``intake_tokens`` (SHA-256
digests of the form page's sign-in tokens). No data moves.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01 18:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import clinicore.kit.db

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "intakes",
        sa.Column("clinic_id", sa.Uuid(), nullable=False),
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.Column("practitioner_id", sa.Uuid(), nullable=True),
        sa.Column("form_id", sa.Uuid(), nullable=True),
        sa.Column("form_name", sa.String(length=200), nullable=False),
        sa.Column("form_kind", sa.String(length=20), nullable=False),
        sa.Column("form_revision", sa.Integer(), nullable=False),
        sa.Column("questions", sa.JSON(), nullable=False),
        sa.Column("consent_documents", sa.JSON(), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("consents", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("password_encrypted", sa.String(length=200), nullable=False),
        sa.Column("failed_password_attempts", sa.Integer(), nullable=False),
        sa.Column("password_locked_until", clinicore.kit.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("appointment_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", clinicore.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", clinicore.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", clinicore.kit.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("submitted_at", clinicore.kit.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["appointments.id"],
            name=op.f("fk_intakes_appointment_id_appointments"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name=op.f("fk_intakes_client_id_clients"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinics.id"], name=op.f("fk_intakes_clinic_id_clinics"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["form_id"],
            ["form_templates.id"],
            name=op.f("fk_intakes_form_id_form_templates"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["practitioner_id"],
            ["practitioners.id"],
            name=op.f("fk_intakes_practitioner_id_practitioners"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intakes")),
    )
    with op.batch_alter_table("intakes", schema=None) as batch_op:
        batch_op.create_index("ix_intakes_clinic_id_created_at", ["clinic_id", "created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_intakes_client_id"), ["client_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_intakes_practitioner_id"), ["practitioner_id"], unique=False)

    op.create_table(
        "intake_files",
        sa.Column("intake_id", sa.Uuid(), nullable=False),
        sa.Column("question_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("storage_key", sa.String(length=300), nullable=False),
        sa.Column("created_at", clinicore.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["intake_id"], ["intakes.id"], name=op.f("fk_intake_files_intake_id_intakes"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intake_files")),
        sa.UniqueConstraint("storage_key", name=op.f("uq_intake_files_storage_key")),
    )
    with op.batch_alter_table("intake_files", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_intake_files_intake_id"), ["intake_id"], unique=False)

    op.create_table(
        "intake_tokens",
        sa.Column("intake_id", sa.Uuid(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("expires_at", clinicore.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", clinicore.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["intake_id"], ["intakes.id"], name=op.f("fk_intake_tokens_intake_id_intakes"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intake_tokens")),
        sa.UniqueConstraint("digest", name=op.f("uq_intake_tokens_digest")),
    )
    with op.batch_alter_table("intake_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_intake_tokens_intake_id"), ["intake_id"], unique=False)


def downgrade() -> None:
    op.drop_table("intake_tokens")
    op.drop_table("intake_files")
    op.drop_table("intakes")
