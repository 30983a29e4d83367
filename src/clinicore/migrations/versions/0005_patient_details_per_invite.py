"""patient details per invite; split clients merged by a shared phone

Until 0005 an invite matched its client by email, else by phone, and then overwrote the client's name,
email, phone and date of birth. Integrations that send one sample phone for every patient (and families
sharing a phone) thereby merged different people into one client, and the webhooks and PDFs of earlier
exams showed a later patient. From 0005 a meeting keeps the patient as its invite named them
(``meetings.patient_*``) and a phone never merges two emails.

This revision recovers each meeting's patient where the data allows, then splits the merged clients:

- the client's latest meeting: the client's current details (the last invite wrote every one of them);
- an earlier meeting: the ``patient`` of its first lifecycle event emitted before the client's next
  invite (the client then still held this invite's details); else the invite email and text message it
  queued (the address, the first name of "Hello <first name>," and the phone number).

A meeting whose recovered email differs from its client's email belongs to another person: it moves, with
its patient exams, to the clinic's client with that email, or to a new client (the clinic's next number)
made from the recovered details. Events of a recovered meeting get its patient back in their payload, so
a replay sends what the invite said. Meetings with nothing to recover keep their client's details.

``custom_pharmacy_clinic_billing`` becomes text: integrators send a number or the clinic's name.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 12:30:00
"""

from __future__ import annotations

import json
import re
import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any, NamedTuple

import sqlalchemy as sa
from alembic import op

from clinicore.kit.db import UTCDateTime

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PATIENT_EVENT_TYPES = ("patient_exam.completed", "prescription.confirmed", "prescription.shipped")
GREETING = re.compile(r"^Hello (.{1,100}),\n")


class Recovered(NamedTuple):
    # Not a dataclass: Alembic loads revisions outside sys.modules, where dataclasses cannot resolve
    # postponed annotations.
    email: str
    first_name: str | None = None
    last_name: str | None = None
    phone: str | None = None


def _payload(value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        loaded: dict[str, Any] = json.loads(value)
        return loaded
    return dict(value)


def _uuid(value: Any) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def upgrade() -> None:
    with op.batch_alter_table("meetings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("patient_first_name", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("patient_last_name", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("patient_email", sa.String(length=320), nullable=True))
        batch_op.add_column(sa.Column("patient_phone", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("patient_date_of_birth", sa.Date(), nullable=True))

    _recover_patients_and_split_clients(op.get_bind())

    with op.batch_alter_table("meetings", schema=None) as batch_op:
        batch_op.alter_column("patient_first_name", existing_type=sa.String(length=100), nullable=False)
        batch_op.alter_column("patient_last_name", existing_type=sa.String(length=100), nullable=False)
        batch_op.alter_column("patient_email", existing_type=sa.String(length=320), nullable=False)
        batch_op.alter_column("patient_phone", existing_type=sa.String(length=32), nullable=False)
        batch_op.alter_column(
            "custom_pharmacy_clinic_billing",
            existing_type=sa.Integer(),
            type_=sa.String(length=200),
            existing_nullable=True,
            postgresql_using="custom_pharmacy_clinic_billing::varchar(200)",
        )


def downgrade() -> None:
    # Clients split by the upgrade stay split: merging different patients again would be the bug.
    with op.batch_alter_table("meetings", schema=None) as batch_op:
        batch_op.alter_column(
            "custom_pharmacy_clinic_billing",
            existing_type=sa.String(length=200),
            type_=sa.Integer(),
            existing_nullable=True,
            postgresql_using=(
                "CASE WHEN custom_pharmacy_clinic_billing ~ '^[0-9]{1,9}$' "
                "THEN custom_pharmacy_clinic_billing::integer END"
            ),
        )
        batch_op.drop_column("patient_date_of_birth")
        batch_op.drop_column("patient_phone")
        batch_op.drop_column("patient_email")
        batch_op.drop_column("patient_last_name")
        batch_op.drop_column("patient_first_name")


# --- the data ---------------------------------------------------------------------------------------

metadata = sa.MetaData()
clients = sa.Table(
    "clients",
    metadata,
    sa.Column("id", sa.Uuid()),
    sa.Column("clinic_id", sa.Uuid()),
    sa.Column("number", sa.Integer()),
    sa.Column("first_name", sa.String()),
    sa.Column("last_name", sa.String()),
    sa.Column("email", sa.String()),
    sa.Column("phone", sa.String()),
    sa.Column("date_of_birth", sa.Date()),
    sa.Column("created_at", UTCDateTime()),
    sa.Column("updated_at", UTCDateTime()),
)
meetings = sa.Table(
    "meetings",
    metadata,
    sa.Column("id", sa.Uuid()),
    sa.Column("clinic_id", sa.Uuid()),
    sa.Column("client_id", sa.Uuid()),
    sa.Column("created_at", UTCDateTime()),
    sa.Column("patient_first_name", sa.String()),
    sa.Column("patient_last_name", sa.String()),
    sa.Column("patient_email", sa.String()),
    sa.Column("patient_phone", sa.String()),
    sa.Column("patient_date_of_birth", sa.Date()),
)
patient_exams = sa.Table(
    "patient_exams", metadata, sa.Column("meeting_id", sa.Uuid()), sa.Column("client_id", sa.Uuid())
)
events = sa.Table(
    "events",
    metadata,
    sa.Column("sequence", sa.BigInteger()),
    sa.Column("clinic_id", sa.Uuid()),
    sa.Column("type", sa.String()),
    sa.Column("aggregate_type", sa.String()),
    sa.Column("aggregate_id", sa.String()),
    sa.Column("payload", sa.JSON()),
    sa.Column("occurred_at", UTCDateTime()),
)
outbound_emails = sa.Table(
    "outbound_emails",
    metadata,
    sa.Column("clinic_id", sa.Uuid()),
    sa.Column("to_address", sa.String()),
    sa.Column("body", sa.Text()),
    sa.Column("created_at", UTCDateTime()),
)
outbound_sms = sa.Table(
    "outbound_sms",
    metadata,
    sa.Column("clinic_id", sa.Uuid()),
    sa.Column("to_number", sa.String()),
    sa.Column("body", sa.Text()),
    sa.Column("created_at", UTCDateTime()),
)
counters = sa.Table("counters", metadata, sa.Column("name", sa.String()), sa.Column("value", sa.Integer()))


def _from_events(connection: sa.Connection, meeting: Any, before: datetime | None) -> Recovered | None:
    rows = connection.execute(
        sa.select(events.c.payload, events.c.occurred_at)
        .where(
            events.c.clinic_id == meeting.clinic_id,
            events.c.aggregate_type == "meeting",
            events.c.aggregate_id == str(meeting.id),
            events.c.type.in_(PATIENT_EVENT_TYPES),
        )
        .order_by(events.c.sequence)
    ).all()
    for payload, occurred_at in rows:
        if before is not None and _aware(occurred_at) >= before:
            break
        patient = _payload(payload).get("patient") or {}
        if patient.get("email"):
            return Recovered(
                email=patient["email"],
                first_name=patient.get("first_name"),
                last_name=patient.get("last_name"),
                phone=patient.get("phone"),
            )
    return None


def _from_outbox(connection: sa.Connection, meeting: Any) -> Recovered | None:
    link = f"%/meet/{meeting.id}?%"
    email = connection.execute(
        sa.select(outbound_emails.c.to_address, outbound_emails.c.body)
        .where(outbound_emails.c.clinic_id == meeting.clinic_id, outbound_emails.c.body.like(link))
        .order_by(outbound_emails.c.created_at)
        .limit(1)
    ).first()
    if email is None:
        return None
    greeting = GREETING.match(email.body)
    phone = connection.scalar(
        sa.select(outbound_sms.c.to_number)
        .where(outbound_sms.c.clinic_id == meeting.clinic_id, outbound_sms.c.body.like(link))
        .order_by(outbound_sms.c.created_at)
        .limit(1)
    )
    return Recovered(email=email.to_address, first_name=greeting.group(1) if greeting else None, phone=phone)


def _next_client_number(connection: sa.Connection, clinic_id: uuid.UUID) -> int:
    name = f"client:{clinic_id}"
    highest = connection.scalar(
        sa.select(sa.func.max(clients.c.number)).where(clients.c.clinic_id == clinic_id)
    )
    current = connection.scalar(sa.select(counters.c.value).where(counters.c.name == name))
    value = max(int(highest or 0), int(current or 0)) + 1
    if current is None:
        connection.execute(counters.insert().values(name=name, value=value))
    else:
        connection.execute(counters.update().where(counters.c.name == name).values(value=value))
    return value


def _client_with_email(connection: sa.Connection, clinic_id: uuid.UUID, email: str) -> Any:
    return connection.execute(
        sa.select(clients)
        .where(clients.c.clinic_id == clinic_id, sa.func.lower(clients.c.email) == email.lower())
        .order_by(clients.c.number)
        .limit(1)
    ).first()


def _recover_patients_and_split_clients(connection: sa.Connection) -> None:
    by_client: dict[Any, list[Any]] = defaultdict(list)
    for meeting in connection.execute(sa.select(meetings).order_by(meetings.c.created_at, meetings.c.id)):
        by_client[meeting.client_id].append(meeting)
    now = datetime.now(UTC)
    for client_id, client_meetings in by_client.items():
        client = connection.execute(sa.select(clients).where(clients.c.id == client_id)).one()
        for position, meeting in enumerate(client_meetings):
            latest = position == len(client_meetings) - 1
            recovered: Recovered | None
            if latest:
                recovered = None  # the client holds this invite's details
            else:
                before = _aware(client_meetings[position + 1].created_at)
                recovered = _from_events(connection, meeting, before) or _from_outbox(connection, meeting)
            _settle_meeting(connection, client, meeting, recovered, now)


def _settle_meeting(
    connection: sa.Connection, client: Any, meeting: Any, recovered: Recovered | None, now: datetime
) -> None:
    owner = client
    dob: date | None = client.date_of_birth
    if recovered is not None and recovered.email.lower() != (client.email or "").lower():
        # Another person merged into this client by a shared phone: give the meeting back to them.
        dob = None  # only the client's latest invite left its date of birth behind
        owner = _client_with_email(connection, meeting.clinic_id, recovered.email)
        if owner is None:
            new_id = uuid.uuid4()
            connection.execute(
                clients.insert().values(
                    id=new_id,
                    clinic_id=meeting.clinic_id,
                    number=_next_client_number(connection, meeting.clinic_id),
                    first_name=(recovered.first_name or "")[:100],
                    last_name=(recovered.last_name or "")[:100],
                    email=recovered.email,
                    phone=recovered.phone or client.phone,
                    created_at=meeting.created_at,
                    updated_at=now,
                )
            )
            owner = connection.execute(sa.select(clients).where(clients.c.id == new_id)).one()
        connection.execute(meetings.update().where(meetings.c.id == meeting.id).values(client_id=owner.id))
        connection.execute(
            patient_exams.update().where(patient_exams.c.meeting_id == meeting.id).values(client_id=owner.id)
        )
    first_name = (recovered.first_name if recovered else None) or owner.first_name or ""
    last_name = (recovered.last_name if recovered else None) or owner.last_name or ""
    email = recovered.email if recovered else (owner.email or "")
    phone = (recovered.phone if recovered else None) or owner.phone or ""
    connection.execute(
        meetings.update()
        .where(meetings.c.id == meeting.id)
        .values(
            patient_first_name=first_name,
            patient_last_name=last_name,
            patient_email=email,
            patient_phone=phone,
            patient_date_of_birth=dob,
        )
    )
    if recovered is not None:
        patient = {"first_name": first_name, "last_name": last_name, "email": email, "phone": phone}
        _restore_event_patients(connection, meeting, patient)


def _restore_event_patients(connection: sa.Connection, meeting: Any, patient: dict[str, str]) -> None:
    rows = connection.execute(
        sa.select(events.c.sequence, events.c.payload).where(
            events.c.clinic_id == meeting.clinic_id,
            events.c.aggregate_type == "meeting",
            events.c.aggregate_id == str(meeting.id),
        )
    ).all()
    for sequence, raw in rows:
        payload = _payload(raw)
        if "patient" in payload and payload["patient"] != patient:
            payload["patient"] = patient
            connection.execute(events.update().where(events.c.sequence == sequence).values(payload=payload))
