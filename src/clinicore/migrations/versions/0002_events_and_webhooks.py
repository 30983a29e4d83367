"""events and webhooks

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 15:57:15.470114
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import clinicore.kit.db

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "event_aggregates",
        sa.Column("clinic_id", sa.Uuid(), nullable=False),
        sa.Column("aggregate_type", sa.String(length=50), nullable=False),
        sa.Column("aggregate_id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["clinic_id"],
            ["clinics.id"],
            name=op.f("fk_event_aggregates_clinic_id_clinics"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "clinic_id", "aggregate_type", "aggregate_id", name=op.f("pk_event_aggregates")
        ),
    )
    op.create_table(
        "outbound_emails",
        sa.Column("clinic_id", sa.Uuid(), nullable=True),
        sa.Column("to_address", sa.String(length=320), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempt_count", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", clinicore.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("claimed_until", clinicore.kit.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("created_at", clinicore.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", clinicore.kit.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["clinic_id"],
            ["clinics.id"],
            name=op.f("fk_outbound_emails_clinic_id_clinics"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbound_emails")),
    )
    with op.batch_alter_table("outbound_emails", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outbound_emails_clinic_id"), ["clinic_id"], unique=False)
        batch_op.create_index(
            "ix_outbound_emails_status_next_attempt_at", ["status", "next_attempt_at"], unique=False
        )

    op.create_table(
        "webhook_endpoints",
        sa.Column("clinic_id", sa.Uuid(), nullable=False),
        sa.Column("format", sa.String(length=16), nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("event_types", sa.JSON(), nullable=True),
        sa.Column("encrypted_secret", sa.String(length=500), nullable=False),
        sa.Column("previous_encrypted_secret", sa.String(length=500), nullable=True),
        sa.Column("previous_secret_expires_at", clinicore.kit.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("owner_key_id", sa.Uuid(), nullable=True),
        sa.Column("bound_aggregate_type", sa.String(length=50), nullable=True),
        sa.Column("bound_aggregate_id", sa.String(length=64), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("disabled_reason", sa.String(length=200), nullable=True),
        sa.Column("disabled_at", clinicore.kit.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("failing_since", clinicore.kit.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_failure_at", clinicore.kit.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("failing_attempt_seconds", sa.Integer(), nullable=False),
        sa.Column("created_at", clinicore.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", clinicore.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["clinic_id"],
            ["clinics.id"],
            name=op.f("fk_webhook_endpoints_clinic_id_clinics"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["owner_key_id"],
            ["api_keys.id"],
            name=op.f("fk_webhook_endpoints_owner_key_id_api_keys"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_endpoints")),
    )
    with op.batch_alter_table("webhook_endpoints", schema=None) as batch_op:
        batch_op.create_index(
            "ix_webhook_endpoints_bound_aggregate",
            ["bound_aggregate_type", "bound_aggregate_id"],
            unique=False,
        )
        batch_op.create_index(batch_op.f("ix_webhook_endpoints_clinic_id"), ["clinic_id"], unique=False)

    op.create_table(
        "events",
        sa.Column(
            "sequence",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("clinic_id", sa.Uuid(), nullable=False),
        sa.Column("type", sa.String(length=100), nullable=False),
        sa.Column("aggregate_type", sa.String(length=50), nullable=False),
        sa.Column("aggregate_id", sa.String(length=64), nullable=False),
        sa.Column("aggregate_version", sa.Integer(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("occurred_at", clinicore.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("target_endpoint_id", sa.Uuid(), nullable=True),
        sa.Column("fanned_out_at", clinicore.kit.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinics.id"], name=op.f("fk_events_clinic_id_clinics"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["target_endpoint_id"],
            ["webhook_endpoints.id"],
            name=op.f("fk_events_target_endpoint_id_webhook_endpoints"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("sequence", name=op.f("pk_events")),
        sa.UniqueConstraint("id", name=op.f("uq_events_id")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_events_clinic_id_aggregate",
            ["clinic_id", "aggregate_type", "aggregate_id", "aggregate_version"],
            unique=False,
        )
        batch_op.create_index("ix_events_clinic_id_occurred_at", ["clinic_id", "occurred_at"], unique=False)
        batch_op.create_index("ix_events_fanned_out_at_sequence", ["fanned_out_at", "sequence"], unique=False)

    op.create_table(
        "webhook_deliveries",
        sa.Column("clinic_id", sa.Uuid(), nullable=False),
        sa.Column("endpoint_id", sa.Uuid(), nullable=False),
        sa.Column("event_sequence", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempt_count", sa.Integer(), nullable=False),
        sa.Column("retry_step", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", clinicore.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("claimed_by", sa.String(length=100), nullable=True),
        sa.Column("claimed_until", clinicore.kit.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_attempt_at", clinicore.kit.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_status_code", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("delivered_at", clinicore.kit.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", clinicore.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["clinic_id"],
            ["clinics.id"],
            name=op.f("fk_webhook_deliveries_clinic_id_clinics"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["endpoint_id"],
            ["webhook_endpoints.id"],
            name=op.f("fk_webhook_deliveries_endpoint_id_webhook_endpoints"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["event_sequence"],
            ["events.sequence"],
            name=op.f("fk_webhook_deliveries_event_sequence_events"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_deliveries")),
        sa.UniqueConstraint(
            "event_sequence", "endpoint_id", name=op.f("uq_webhook_deliveries_event_sequence_endpoint_id")
        ),
    )
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_webhook_deliveries_clinic_id"), ["clinic_id"], unique=False)
        batch_op.create_index(
            "ix_webhook_deliveries_status_endpoint_id_event_sequence",
            ["status", "endpoint_id", "event_sequence"],
            unique=False,
        )
        batch_op.create_index(
            "ix_webhook_deliveries_status_next_attempt_at", ["status", "next_attempt_at"], unique=False
        )

    op.create_table(
        "webhook_attempts",
        sa.Column("clinic_id", sa.Uuid(), nullable=False),
        sa.Column("delivery_id", sa.Uuid(), nullable=False),
        sa.Column("endpoint_id", sa.Uuid(), nullable=False),
        sa.Column("event_sequence", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("attempt_number", sa.Integer(), nullable=False),
        sa.Column("attempted_at", clinicore.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("latency_ms", sa.Integer(), nullable=False),
        sa.Column("response_excerpt", sa.Text(), nullable=False),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.Column("outcome", sa.String(length=24), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["clinic_id"],
            ["clinics.id"],
            name=op.f("fk_webhook_attempts_clinic_id_clinics"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["webhook_deliveries.id"],
            name=op.f("fk_webhook_attempts_delivery_id_webhook_deliveries"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["endpoint_id"],
            ["webhook_endpoints.id"],
            name=op.f("fk_webhook_attempts_endpoint_id_webhook_endpoints"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["event_sequence"],
            ["events.sequence"],
            name=op.f("fk_webhook_attempts_event_sequence_events"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_attempts")),
    )
    with op.batch_alter_table("webhook_attempts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_webhook_attempts_delivery_id"), ["delivery_id"], unique=False)
        batch_op.create_index(
            "ix_webhook_attempts_endpoint_id_attempted_at", ["endpoint_id", "attempted_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_webhook_attempts_event_sequence"), ["event_sequence"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("webhook_attempts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_webhook_attempts_event_sequence"))
        batch_op.drop_index("ix_webhook_attempts_endpoint_id_attempted_at")
        batch_op.drop_index(batch_op.f("ix_webhook_attempts_delivery_id"))

    op.drop_table("webhook_attempts")
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_webhook_deliveries_status_next_attempt_at")
        batch_op.drop_index("ix_webhook_deliveries_status_endpoint_id_event_sequence")
        batch_op.drop_index(batch_op.f("ix_webhook_deliveries_clinic_id"))

    op.drop_table("webhook_deliveries")
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index("ix_events_clinic_id_aggregate")
        batch_op.drop_index("ix_events_fanned_out_at_sequence")
        batch_op.drop_index("ix_events_clinic_id_occurred_at")

    op.drop_table("events")
    with op.batch_alter_table("webhook_endpoints", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_webhook_endpoints_clinic_id"))
        batch_op.drop_index("ix_webhook_endpoints_bound_aggregate")

    op.drop_table("webhook_endpoints")
    with op.batch_alter_table("outbound_emails", schema=None) as batch_op:
        batch_op.drop_index("ix_outbound_emails_status_next_attempt_at")
        batch_op.drop_index(batch_op.f("ix_outbound_emails_clinic_id"))

    op.drop_table("outbound_emails")
    op.drop_table("event_aggregates")
