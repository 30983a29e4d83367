"""meeting routing in core words

The meeting stored Qualiphy's routing codes as sent; it now stores what they mean (the Qualiphy surface
decodes them): ``custom_pharmacy`` 1/2 -> ``pharmacy_routing`` retail/partner;
``provider_pos_selection`` 1/2/3 -> ``provider_chooses`` nothing/order_set/pharmacy_and_order_set;
``custom_pharmacy_patient_choice`` 1/2 -> ``patient_chooses_pharmacy`` false/true;
``custom_pharmacy_patient_billing`` 1/2 -> ``pharmacy_bills`` clinic/patient;
``custom_pharmacy_delivery_method`` 1/2 -> ``delivery_method`` pickup/ship;
``custom_pharmacy_clinic_billing`` -> ``clinic_billing_reference``.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 13:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (old column, new column, {old value: new value}); None: copied as it is.
CONVERSIONS: list[tuple[str, str, dict[int, object] | None]] = [
    ("custom_pharmacy", "pharmacy_routing", {1: "retail", 2: "partner"}),
    (
        "provider_pos_selection",
        "provider_chooses",
        {1: "nothing", 2: "order_set", 3: "pharmacy_and_order_set"},
    ),
    ("custom_pharmacy_patient_choice", "patient_chooses_pharmacy", {1: False, 2: True}),
    ("custom_pharmacy_patient_billing", "pharmacy_bills", {1: "clinic", 2: "patient"}),
    ("custom_pharmacy_delivery_method", "delivery_method", {1: "pickup", 2: "ship"}),
    ("custom_pharmacy_clinic_billing", "clinic_billing_reference", None),
]


def _new_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("pharmacy_routing", sa.String(length=16), nullable=True),
        sa.Column("provider_chooses", sa.String(length=32), nullable=True),
        sa.Column("patient_chooses_pharmacy", sa.Boolean(), nullable=True),
        sa.Column("pharmacy_bills", sa.String(length=16), nullable=True),
        sa.Column("delivery_method", sa.String(length=16), nullable=True),
        sa.Column("clinic_billing_reference", sa.String(length=200), nullable=True),
    ]


def _old_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("custom_pharmacy", sa.Integer(), nullable=True),
        sa.Column("provider_pos_selection", sa.Integer(), nullable=True),
        sa.Column("custom_pharmacy_patient_choice", sa.Integer(), nullable=True),
        sa.Column("custom_pharmacy_patient_billing", sa.Integer(), nullable=True),
        sa.Column("custom_pharmacy_delivery_method", sa.Integer(), nullable=True),
        sa.Column("custom_pharmacy_clinic_billing", sa.String(length=200), nullable=True),
    ]


def _copy(forward: bool) -> None:
    meetings = sa.table(
        "meetings",
        *(sa.column(column.name, column.type) for column in [*_new_columns(), *_old_columns()]),
    )
    for old, new, values in CONVERSIONS:
        source, target = (old, new) if forward else (new, old)
        if values is None:
            expression: sa.ColumnElement[object] = meetings.c[source]
        else:
            pairs = [(code, meaning) if forward else (meaning, code) for code, meaning in values.items()]
            expression = sa.case(
                *((meetings.c[source] == sa.literal(key), sa.literal(value)) for key, value in pairs),
                else_=sa.null(),
            )
        op.execute(meetings.update().values({target: expression}))


def upgrade() -> None:
    with op.batch_alter_table("meetings", schema=None) as batch_op:
        for column in _new_columns():
            batch_op.add_column(column)
    _copy(forward=True)
    with op.batch_alter_table("meetings", schema=None) as batch_op:
        for column in _old_columns():
            batch_op.drop_column(column.name)


def downgrade() -> None:
    with op.batch_alter_table("meetings", schema=None) as batch_op:
        for column in _old_columns():
            batch_op.add_column(column)
    _copy(forward=False)
    with op.batch_alter_table("meetings", schema=None) as batch_op:
        for column in _new_columns():
            batch_op.drop_column(column.name)
