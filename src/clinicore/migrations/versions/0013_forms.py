"""Form templates: master forms (a partner's) and practice forms (a clinic's)

New tables: ``form_templates`` (one owner: a partner or a clinic; a practice form copied from a master
form keeps its source), ``form_sections``, ``form_questions`` and ``form_consent_documents``. No data
moves.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 16:45:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import clinicore.kit.db

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "form_templates",
        sa.Column("partner_id", sa.Uuid(), nullable=True),
        sa.Column("clinic_id", sa.Uuid(), nullable=True),
        sa.Column("source_form_id", sa.Uuid(), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("archived", sa.Boolean(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("created_at", clinicore.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", clinicore.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint(
            "(partner_id IS NULL AND clinic_id IS NOT NULL)"
            " OR (partner_id IS NOT NULL AND clinic_id IS NULL)",
            name=op.f("ck_form_templates_one_owner"),
        ),
        sa.ForeignKeyConstraint(
            ["clinic_id"],
            ["clinics.id"],
            name=op.f("fk_form_templates_clinic_id_clinics"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["partners.id"],
            name=op.f("fk_form_templates_partner_id_partners"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["source_form_id"],
            ["form_templates.id"],
            name=op.f("fk_form_templates_source_form_id_form_templates"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_form_templates")),
    )
    with op.batch_alter_table("form_templates", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_form_templates_clinic_id"), ["clinic_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_form_templates_partner_id"), ["partner_id"], unique=False)

    op.create_table(
        "form_sections",
        sa.Column("form_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["form_id"],
            ["form_templates.id"],
            name=op.f("fk_form_sections_form_id_form_templates"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_form_sections")),
        sa.UniqueConstraint("form_id", "position", name=op.f("uq_form_sections_form_id_position")),
    )
    op.create_table(
        "form_questions",
        sa.Column("form_id", sa.Uuid(), nullable=False),
        sa.Column("section_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("text", sa.String(length=1000), nullable=False),
        sa.Column("help_text", sa.String(length=1000), nullable=True),
        sa.Column("required", sa.Boolean(), nullable=False),
        sa.Column("choices", sa.JSON(), nullable=False),
        sa.Column("matrix_rows", sa.JSON(), nullable=False),
        sa.Column("matrix_columns", sa.JSON(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["form_id"],
            ["form_templates.id"],
            name=op.f("fk_form_questions_form_id_form_templates"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["section_id"],
            ["form_sections.id"],
            name=op.f("fk_form_questions_section_id_form_sections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_form_questions")),
        sa.UniqueConstraint("section_id", "position", name=op.f("uq_form_questions_section_id_position")),
    )
    with op.batch_alter_table("form_questions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_form_questions_form_id"), ["form_id"], unique=False)

    op.create_table(
        "form_consent_documents",
        sa.Column("form_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("html", sa.Text(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["form_id"],
            ["form_templates.id"],
            name=op.f("fk_form_consent_documents_form_id_form_templates"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_form_consent_documents")),
        sa.UniqueConstraint("form_id", "position", name=op.f("uq_form_consent_documents_form_id_position")),
    )


def downgrade() -> None:
    op.drop_table("form_consent_documents")
    op.drop_table("form_questions")
    op.drop_table("form_sections")
    op.drop_table("form_templates")
