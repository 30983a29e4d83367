"""The provider desk's forms, one model each, as ``web.console.forms.submit_form`` reads them. Every
field is bounded; the rules about the values stay in the core. Signing in and the buttons that post only
their CSRF token take the forms every desk takes (web/desk/forms.py)."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import StringConstraints, field_validator, model_validator

from clinicore.core.models import ExamOutcome
from clinicore.core.pharmacy.schemas import DrugItem
from clinicore.kit.errors import InvalidInput
from clinicore.web.console.forms import ConsoleForm

MAX_ITEMS = 20
OUTCOMES = {
    "approved": ExamOutcome.approved,
    "rejected": ExamOutcome.rejected,
    "na": ExamOutcome.na,
    "deferred": ExamOutcome.deferred,
}
_ITEM_FIELD = re.compile(r"^item-(\d{1,2})-([a-z_]+)$")
ITEM_LIMITS = {
    "drug_name": 200,
    "strength": 100,
    "form": 100,
    "ndc": 20,
    "quantity": 32,
    "quantity_units": 32,
    "refills": 3,
    "days_supply": 4,
    "directions": 2000,
    "schedule_code": 8,
}


class DecisionForm(ConsoleForm):
    outcome: ExamOutcome
    reason: Annotated[str, StringConstraints(max_length=5000)] = ""

    @field_validator("outcome", mode="before")
    @classmethod
    def _outcome(cls, raw: object) -> ExamOutcome:
        if isinstance(raw, str) and raw in OUTCOMES:
            return OUTCOMES[raw]
        raise InvalidInput("outcome: choose Approved, Rejected, NA or Deferred", field="outcome")


def _whole_number(raw: str, *, label: str, blank: int | None) -> int | None:
    if not raw.strip():
        return blank
    try:
        return int(raw.strip())
    except ValueError:
        raise InvalidInput(f"{label}: enter a whole number", field=label) from None


def _item(number: int, values: dict[str, str]) -> DrugItem:
    text = {name: (values.get(name) or "").strip() or None for name in ITEM_LIMITS}
    refills = _whole_number(values.get("refills", ""), label=f"item {number} refills", blank=0)
    days_supply = _whole_number(values.get("days_supply", ""), label=f"item {number} days supply", blank=None)
    return DrugItem(
        drug_name=text["drug_name"] or "",
        strength=text["strength"],
        form=text["form"],
        ndc=text["ndc"],
        quantity=text["quantity"],
        quantity_units=text["quantity_units"],
        refills=refills or 0,
        days_supply=days_supply,
        directions=text["directions"],
        schedule_code=text["schedule_code"],
    )


class PrescriptionForm(ConsoleForm):
    """``order_set_id`` and rows ``item-<n>-<field>``; a row whose every field is blank is skipped."""

    order_set_id: int | None = None
    items: list[DrugItem] = []

    @model_validator(mode="before")
    @classmethod
    def _gather(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        rows: dict[int, dict[str, str]] = {}
        for name, value in data.items():
            match = _ITEM_FIELD.match(name)
            if match is None or match[2] not in ITEM_LIMITS:
                continue
            number, field = int(match[1]), match[2]
            if len(value) > ITEM_LIMITS[field]:
                raise InvalidInput(
                    f"item {number + 1} {field}: at most {ITEM_LIMITS[field]} characters", field=field
                )
            rows.setdefault(number, {})[field] = value
        if len(rows) > MAX_ITEMS:
            raise InvalidInput(f"items: at most {MAX_ITEMS}", field="items")
        items = [
            _item(number + 1, values)
            for number, values in sorted(rows.items())
            if any(value.strip() for value in values.values())
        ]
        raw_order_set = str(data.get("order_set_id") or "")
        order_set_id = _whole_number(raw_order_set[:12], label="order set", blank=None)
        return {"order_set_id": order_set_id, "items": items}
