"""Qualiphy's pharmacy endpoints: partner pharmacies for exams and a state, their treatment packages
(order sets), and the retail pharmacy directory. Each answers a bare JSON array, as the doc's samples
and real clients expect."""

from __future__ import annotations

from fastapi import APIRouter, Request

from clinicore.core.pharmacy import service as pharmacy_service
from clinicore.kit.errors import InvalidInput
from clinicore.requests import SessionDep
from clinicore.surfaces.qualiphy import pharmacy_wire as wire
from clinicore.surfaces.qualiphy.auth import Caller, request_fields
from clinicore.surfaces.qualiphy.parsing import parse
from clinicore.surfaces.qualiphy.routing import endpoint

router = APIRouter(tags=["Pharmacy"])


@endpoint(
    router,
    "partner_pharmacy_list",
    response_model=list[wire.PartnerPharmacy],
    summary="Partner pharmacies fulfilling the given Rx exams that ship to the patient's state",
)
async def partner_pharmacy_list(
    request: Request, caller: Caller, session: SessionDep
) -> list[wire.PartnerPharmacy]:
    body = parse(wire.PartnerPharmacyListRequest, await request_fields(request))
    if body.exam_ids is None:
        raise InvalidInput(wire.MISSING_EXAM_IDS, field="exam_ids")  # Qualiphy's exact words
    if body.patient_state is None:
        return []  # Qualiphy: omitting patient_state returns an empty array
    matches = await pharmacy_service.partner_pharmacies(
        session, clinic_id=caller.clinic.id, exam_ids=body.exam_ids, patient_state=body.patient_state
    )
    return [wire.partner_pharmacy(match) for match in matches]


@endpoint(
    router,
    "partner_pharmacy_treatment_packages",
    response_model=list[wire.TreatmentPackage],
    summary="Treatment packages (order sets) of the given partner pharmacies for the given Rx exams",
)
async def partner_pharmacy_treatment_packages(
    request: Request, caller: Caller, session: SessionDep
) -> list[wire.TreatmentPackage]:
    body = parse(wire.TreatmentPackagesRequest, await request_fields(request))
    if body.exam_ids is None:
        raise InvalidInput(wire.MISSING_EXAM_IDS, field="exam_ids")  # as partner_pharmacy_list
    if body.pharmacy_ids is None or body.patient_state is None:
        return []  # Qualiphy: pharmacy_id (singular) or no patient_state returns an empty array
    packages = await pharmacy_service.treatment_packages(
        session,
        clinic_id=caller.clinic.id,
        pharmacy_ids=body.pharmacy_ids,
        exam_ids=body.exam_ids,
        patient_state=body.patient_state,
    )
    return [wire.treatment_package(package) for package in packages]


@endpoint(
    router,
    "custom_pharmacy_search",
    response_model=list[wire.RetailPharmacyFound],
    summary="Look up U.S. retail pharmacies by name, ZIP code or NCPDP id",
)
async def custom_pharmacy_search(
    request: Request, caller: Caller, session: SessionDep
) -> list[wire.RetailPharmacyFound]:
    body = parse(wire.CustomPharmacySearchRequest, await request_fields(request))
    found = await pharmacy_service.search_retail(
        session, search=body.search, zip_code=body.zip_code, ncpdpid=body.ncpdpid
    )
    return [wire.retail_pharmacy(pharmacy) for pharmacy in found]
