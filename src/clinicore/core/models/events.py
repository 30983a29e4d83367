"""The event outbox, webhook endpoints, deliveries (one per event and endpoint) and the attempt log."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from clinicore.core.models.base import Base, UUIDPrimaryKey

# SQLite only autoincrements an INTEGER PRIMARY KEY; PostgreSQL gets a 64-bit identity.
EventSequence = BigInteger().with_variant(Integer(), "sqlite")


class Event(Base):
    """One state change, written in the same transaction as the change (the outbox)."""

    __tablename__ = "events"
    __table_args__ = (
        Index(
            "ix_events_clinic_id_aggregate",
            "clinic_id",
            "aggregate_type",
            "aggregate_id",
            "aggregate_version",
        ),
        Index("ix_events_fanned_out_at_sequence", "fanned_out_at", "sequence"),
        Index("ix_events_clinic_id_occurred_at", "clinic_id", "occurred_at"),
        {"sqlite_autoincrement": True},
    )

    # Commit-independent total order of events; deliveries to one endpoint go out in this order.
    sequence: Mapped[int] = mapped_column(EventSequence, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(32), unique=True)  # evt_ + ULID, the webhook-id of every delivery
    clinic_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clinics.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(100))  # dotted: appointment.created
    aggregate_type: Mapped[str] = mapped_column(String(50))
    aggregate_id: Mapped[str] = mapped_column(String(64))
    aggregate_version: Mapped[int] = mapped_column(
        Integer
    )  # 1, 2, ... per aggregate: receivers drop stale ones
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    occurred_at: Mapped[datetime]
    # A test event is addressed to one endpoint only.
    target_endpoint_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("webhook_endpoints.id", ondelete="CASCADE")
    )
    fanned_out_at: Mapped[datetime | None]


class EventAggregate(Base):
    """The last version handed out per aggregate; its row lock serialises emitters of one aggregate."""

    __tablename__ = "event_aggregates"

    clinic_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("clinics.id", ondelete="CASCADE"), primary_key=True
    )
    aggregate_type: Mapped[str] = mapped_column(String(50), primary_key=True)
    aggregate_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)


class WebhookFormat(StrEnum):
    qualiphy = "qualiphy"
    qualifybase = "qualifybase"
    intakeq = "intakeq"
    native = "native"


class WebhookEndpoint(UUIDPrimaryKey, Base):
    __tablename__ = "webhook_endpoints"
    __table_args__ = (
        Index("ix_webhook_endpoints_bound_aggregate", "bound_aggregate_type", "bound_aggregate_id"),
    )

    clinic_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clinics.id", ondelete="CASCADE"), index=True)
    format: Mapped[str] = mapped_column(String(16))
    url: Mapped[str] = mapped_column(String(2048))
    event_types: Mapped[list[str] | None] = mapped_column(JSON)  # None: every event
    encrypted_secret: Mapped[str] = mapped_column(String(500))
    # After a rotation the old secret keeps signing beside the new one until it expires.
    previous_encrypted_secret: Mapped[str | None] = mapped_column(String(500))
    previous_secret_expires_at: Mapped[datetime | None]
    owner_key_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("api_keys.id", ondelete="SET NULL"))
    # An endpoint bound to one aggregate (a Qualiphy invite's webhook_url) hears only that aggregate.
    bound_aggregate_type: Mapped[str | None] = mapped_column(String(50))
    bound_aggregate_id: Mapped[str | None] = mapped_column(String(64))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # Opt-in: deliveries of one aggregate (same appointment, same exam) go out one at a time, in event
    # order; unrelated aggregates still go out side by side. Off: no order is promised.
    strict_order: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    disabled_reason: Mapped[str | None] = mapped_column(String(200))
    disabled_at: Mapped[datetime | None]
    # The failing streak: first failed attempt since the last success, the latest one, and how long
    # we were actually trying (gaps longer than the retry schedule's, e.g. our own outage, do not count).
    failing_since: Mapped[datetime | None]
    last_failure_at: Mapped[datetime | None]
    failing_attempt_seconds: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class WebhookDeliveryStatus(StrEnum):
    pending = "pending"  # waiting for its next attempt (or for its endpoint to be enabled again)
    delivered = "delivered"
    failed = "failed"  # every retry used
    aborted = "aborted"  # the receiver said webhook-delivery: abort-message


class WebhookDelivery(UUIDPrimaryKey, Base):
    """One event to one endpoint. Replaying resets it; its attempts stay in the log."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("event_sequence", "endpoint_id"),
        Index(
            "ix_webhook_deliveries_status_endpoint_id_event_sequence",
            "status",
            "endpoint_id",
            "event_sequence",
        ),
        Index("ix_webhook_deliveries_status_next_attempt_at", "status", "next_attempt_at"),
        Index(
            "ix_webhook_deliveries_endpoint_id_status_next_attempt_at",
            "endpoint_id",
            "status",
            "next_attempt_at",
        ),
    )

    clinic_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clinics.id", ondelete="CASCADE"), index=True)
    endpoint_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    event_sequence: Mapped[int] = mapped_column(
        EventSequence, ForeignKey("events.sequence", ondelete="CASCADE")
    )
    status: Mapped[str] = mapped_column(String(16), default=WebhookDeliveryStatus.pending)
    attempt_count: Mapped[int] = mapped_column(Integer, default=0)  # every attempt ever made
    retry_step: Mapped[int] = mapped_column(
        Integer, default=0
    )  # position in the retry schedule; replay resets
    next_attempt_at: Mapped[datetime]
    # The lease of the worker sending it, "host:pid"; taken in a short claim transaction and given back
    # when the attempt is recorded. A lease past claimed_until, or of a dead process, is free again.
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    claimed_until: Mapped[datetime | None]
    last_attempt_at: Mapped[datetime | None]
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(500))
    delivered_at: Mapped[datetime | None]
    created_at: Mapped[datetime]


class WebhookAttemptOutcome(StrEnum):
    delivered = "delivered"
    retrying = "retrying"
    failed = "failed"  # last retry used
    aborted = "aborted"
    endpoint_disabled = "endpoint_disabled"  # the receiver answered 410 Gone
    sending = "sending"  # logged when claimed, before the request goes out; no answer recorded yet
    interrupted = "interrupted"  # the worker stopped before recording the answer (it may have arrived)


class WebhookAttempt(UUIDPrimaryKey, Base):
    """The delivery log: one row per HTTP attempt."""

    __tablename__ = "webhook_attempts"
    __table_args__ = (Index("ix_webhook_attempts_endpoint_id_attempted_at", "endpoint_id", "attempted_at"),)

    clinic_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clinics.id", ondelete="CASCADE"))
    delivery_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), index=True
    )
    endpoint_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    event_sequence: Mapped[int] = mapped_column(
        EventSequence, ForeignKey("events.sequence", ondelete="CASCADE"), index=True
    )
    attempt_number: Mapped[int] = mapped_column(Integer)
    attempted_at: Mapped[datetime]
    url: Mapped[str] = mapped_column(String(2048))
    status_code: Mapped[int | None] = mapped_column(Integer)
    latency_ms: Mapped[int] = mapped_column(Integer)
    response_excerpt: Mapped[str] = mapped_column(Text, default="")  # first 1 KB of the body
    responded_at: Mapped[datetime | None]  # when the receiver's answer was in (None: no answer)
    error: Mapped[str | None] = mapped_column(String(500))
    outcome: Mapped[str] = mapped_column(String(24))
