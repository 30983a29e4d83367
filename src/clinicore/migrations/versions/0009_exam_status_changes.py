"""exam timeline: one row per status move of a patient exam, with its actor

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 15:40:00

Existing exams get the lines that can be known: their creation (``created_at``), and, when they have
moved on since, one line to their present status (``updated_at``). Who made those moves was not
recorded, so those lines say ``system``.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import clinicore.kit.db

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "exam_status_changes",
        sa.Column("id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column("clinic_id", sa.Uuid(), nullable=False),
        sa.Column("patient_exam_id", sa.Integer(), nullable=False),
        sa.Column("from_status", sa.String(length=32), nullable=True),
        sa.Column("to_status", sa.String(length=32), nullable=False),
        sa.Column("outcome", sa.String(length=40), nullable=True),
        sa.Column("actor_type", sa.String(length=16), nullable=False),
        sa.Column("actor_id", sa.String(length=64), nullable=True),
        sa.Column("occurred_at", clinicore.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["clinic_id"],
            ["clinics.id"],
            name=op.f("fk_exam_status_changes_clinic_id_clinics"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["patient_exam_id"],
            ["patient_exams.id"],
            name=op.f("fk_exam_status_changes_patient_exam_id_patient_exams"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exam_status_changes")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("exam_status_changes", schema=None) as batch_op:
        batch_op.create_index(
            "ix_exam_status_changes_patient_exam_id_id", ["patient_exam_id", "id"], unique=False
        )

    op.execute(
        """
        INSERT INTO exam_status_changes
            (clinic_id, patient_exam_id, from_status, to_status, outcome, actor_type, actor_id, occurred_at)
        SELECT clinic_id, id, NULL, 'pending', NULL, 'system', NULL, created_at
        FROM patient_exams ORDER BY id
        """
    )
    op.execute(
        """
        INSERT INTO exam_status_changes
            (clinic_id, patient_exam_id, from_status, to_status, outcome, actor_type, actor_id, occurred_at)
        SELECT clinic_id, id, 'pending', status, outcome, 'system', NULL, updated_at
        FROM patient_exams WHERE status <> 'pending' ORDER BY id
        """
    )


def downgrade() -> None:
    with op.batch_alter_table("exam_status_changes", schema=None) as batch_op:
        batch_op.drop_index("ix_exam_status_changes_patient_exam_id_id")
    op.drop_table("exam_status_changes")
