"""Is a prescription complete enough to go to a pharmacy? Pure: no I/O.

A pharmacy needs, before it can fill an order:
- a prescriber holding a licence (with its number, not expired) in the patient's tele_state;
- where the order goes to the patient: a full shipping address (line 1, city, state, ZIP), unless the
  patient picks it up at a retail pharmacy (a retail routing not marked ``ship``);
- for every item: the drug, its strength, the quantity and the directions.

``missing_from_prescription`` names each missing part in words a provider understands; an empty list
means complete.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from clinicore.core.pharmacy.schemas import DrugItem


@dataclass(frozen=True, slots=True)
class PrescriberLicence:
    state: str
    license_number: str | None
    expires_on: date | None


@dataclass(frozen=True, slots=True)
class PrescriptionDraft:
    tele_state: str
    prescriber_licence: PrescriberLicence | None  # the prescriber's licence in ``tele_state``, if any
    patient_picks_up: bool  # at a retail pharmacy: no shipping address needed
    shipping_address: Sequence[str | None]  # line 1, city, state, ZIP
    items: Sequence[DrugItem]
    today: date


ITEM_FIELDS = (
    ("drug_name", "drug"),
    ("strength", "strength"),
    ("quantity", "quantity"),
    ("directions", "directions"),
)


def _blank(value: str | None) -> bool:
    return not (value or "").strip()


def missing_from_prescription(draft: PrescriptionDraft) -> list[str]:
    missing: list[str] = []
    licence = draft.prescriber_licence
    if licence is None or (licence.expires_on is not None and licence.expires_on < draft.today):
        missing.append(f"a prescriber licence in {draft.tele_state}")
    elif _blank(licence.license_number):
        missing.append(f"the prescriber's licence number in {draft.tele_state}")
    if not draft.patient_picks_up and any(_blank(part) for part in draft.shipping_address):
        missing.append("the patient's shipping address (or a pickup pharmacy)")
    if not draft.items:
        missing.append("at least one item")
    for number, item in enumerate(draft.items, start=1):
        for attribute, words in ITEM_FIELDS:
            if _blank(getattr(item, attribute)):
                missing.append(f"item {number}: {words}")
    return missing
