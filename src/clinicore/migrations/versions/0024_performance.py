"""Performance indexes: patient exams by client (an invite of a known client asks whether it has exams).

Revision ID: 0024
Revises: 0022
Create Date: 2026-12-01 21:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0024"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_patient_exams_client_id", "patient_exams", ["client_id"])


def downgrade() -> None:
    op.drop_index("ix_patient_exams_client_id", table_name="patient_exams")
