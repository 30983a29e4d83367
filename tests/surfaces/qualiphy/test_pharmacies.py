"""The three Qualiphy pharmacy endpoints through HTTP: partner pharmacies, their treatment packages
and the retail directory search, with every quirk the doc and real clients show."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import pytest

from clinicore.core.models import PartnerPharmacy
from clinicore.core.pharmacy import service as pharmacy_service
from clinicore.core.pharmacy.schemas import DrugItem, RetailPharmacyRecord
from tests.surfaces.qualiphy.conftest import QualiphyClinic

MISSING_EXAM_IDS = "Cannot convert undefined or null to object"
# ZIP areas of the demo directory (cli/data/demo_pharmacies.csv) and of tests/cli/data/
RESERVED_ZIP_PREFIXES = frozenset(
    {"100", "112", "900", "941", "606", "770", "331", "981", "021", "802", "223", "580", "590"}
)
SEMAGLUTIDE = DrugItem(
    drug_name="Semaglutide (compounded)",
    strength="2.5 mg/mL",
    form="injectable solution",
    ndc="00000-1101-01",
    quantity="1",
    quantity_units="mL",
    refills=0,
    days_supply=28,
    directions="Inject 0.25 mg under the skin once a week.",
)
SYRINGES = DrugItem(drug_name="Insulin syringes", form="supply", ndc="00000-9901-10", quantity="10")


async def partner_pharmacy(
    qp: QualiphyClinic, name: str, *, states: Sequence[str] | None = None
) -> PartnerPharmacy:
    async with qp.runtime.sessions() as session, session.begin():
        return await pharmacy_service.create_partner_pharmacy(
            session,
            name=f"{name} {secrets.token_hex(3)}",
            states=states,
            phone="(512) 555-0131",
            ncpdpid="9900201",
            address_line_1="4100 Commerce Drive",
            city="Austin",
            state="TX",
            zip_code="78744",
            clock=qp.clock,
        )


async def link(qp: QualiphyClinic, pharmacy: PartnerPharmacy, exam_id: int) -> None:
    async with qp.runtime.sessions() as session, session.begin():
        await pharmacy_service.link_exam(
            session, clinic_id=qp.arranged.clinic.id, pharmacy_id=pharmacy.id, exam_id=exam_id
        )


async def order_set(
    qp: QualiphyClinic,
    pharmacy: PartnerPharmacy,
    exam_id: int,
    title: str,
    price: Decimal | None,
    items: Sequence[DrugItem] = (SEMAGLUTIDE, SYRINGES),
) -> int:
    async with qp.runtime.sessions() as session, session.begin():
        created = await pharmacy_service.create_order_set(
            session,
            clinic_id=qp.arranged.clinic.id,
            pharmacy_id=pharmacy.id,
            exam_id=exam_id,
            title=title,
            price=price,
            items=items,
            clock=qp.clock,
        )
        return created.id


def ids_of(response_json: list[dict[str, Any]], key: str = "pharmacy_id") -> list[int]:
    return [entry[key] for entry in response_json]


class TestPartnerPharmacyList:
    async def test_lists_pharmacies_of_the_exams_that_ship_to_the_patients_state(
        self, qp: QualiphyClinic
    ) -> None:
        everywhere = await partner_pharmacy(qp, "Evergreen")
        coastal = await partner_pharmacy(qp, "Harborview", states=["NY", "CA"])
        await link(qp, everywhere, qp.catalog.glp1.id)
        await link(qp, coastal, qp.catalog.hair.id)
        exam_ids = [qp.catalog.glp1.id, qp.catalog.hair.id]

        in_texas = await qp.post("partner_pharmacy_list", exam_ids=exam_ids, patient_state="TX")
        in_new_york = await qp.post("partner_pharmacy_list", exam_ids=exam_ids, patient_state="NY")

        assert in_texas.status_code == 200
        assert ids_of(in_texas.json()) == [everywhere.id]
        assert ids_of(in_new_york.json()) == [everywhere.id, coastal.id]
        first = in_new_york.json()[0]
        assert first == {
            "pharmacy_id": everywhere.id,
            "pharmacy_name": everywhere.name,
            "ncpdpid": "9900201",
            "pharmacy_address_line_1": "4100 Commerce Drive",
            "pharmacy_city": "Austin",
            "pharmacy_state": "TX",
            "pharmacy_zip_code": "78744",
            "pharmacy_phone": "+15125550131",
            "exam_ids": [qp.catalog.glp1.id],
        }

    async def test_the_answer_is_a_bare_array_without_http_code(self, qp: QualiphyClinic) -> None:
        response = await qp.post("partner_pharmacy_list", exam_ids=[qp.catalog.glp1.id], patient_state="NY")
        assert response.status_code == 200
        assert isinstance(response.json(), list)

    async def test_without_exam_ids_is_the_400_javascript_message(self, qp: QualiphyClinic) -> None:
        response = await qp.post("partner_pharmacy_list", patient_state="NY")
        assert response.status_code == 400
        assert response.json() == {"http_code": 400, "error_message": MISSING_EXAM_IDS}

    async def test_without_patient_state_is_an_empty_array(self, qp: QualiphyClinic) -> None:
        pharmacy = await partner_pharmacy(qp, "Evergreen")
        await link(qp, pharmacy, qp.catalog.glp1.id)
        response = await qp.post("partner_pharmacy_list", exam_ids=[qp.catalog.glp1.id])
        assert response.status_code == 200
        assert response.json() == []

    @pytest.mark.parametrize("shape", ["scalar", "string", "string_array", "comma_string"])
    async def test_exam_ids_as_a_number_a_string_or_an_array(self, qp: QualiphyClinic, shape: str) -> None:
        pharmacy = await partner_pharmacy(qp, "Evergreen")
        await link(qp, pharmacy, qp.catalog.glp1.id)
        exam_id = qp.catalog.glp1.id
        sent: Any = {
            "scalar": exam_id,
            "string": str(exam_id),
            "string_array": [str(exam_id)],
            "comma_string": f"{exam_id},{qp.catalog.uti.id}",
        }[shape]
        response = await qp.post("partner_pharmacy_list", exam_ids=sent, patient_state="ny")
        assert ids_of(response.json()) == [pharmacy.id]

    async def test_a_non_numeric_exam_id_is_a_400_naming_the_field(self, qp: QualiphyClinic) -> None:
        response = await qp.post("partner_pharmacy_list", exam_ids=["glp"], patient_state="NY")
        assert response.status_code == 400
        assert response.json()["error_message"].startswith("exam_ids")

    async def test_an_exam_without_pharmacies_gives_an_empty_array(self, qp: QualiphyClinic) -> None:
        response = await qp.post("partner_pharmacy_list", exam_ids=[qp.catalog.uti.id], patient_state="NY")
        assert response.json() == []

    async def test_another_clinics_exams_give_an_empty_array(
        self, qp: QualiphyClinic, other_qp: QualiphyClinic
    ) -> None:
        pharmacy = await partner_pharmacy(qp, "Evergreen")
        await link(qp, pharmacy, qp.catalog.glp1.id)
        response = await other_qp.post(
            "partner_pharmacy_list", exam_ids=[qp.catalog.glp1.id], patient_state="NY"
        )
        assert response.status_code == 200
        assert response.json() == []

    async def test_test_state_te_matches_every_pharmacy_of_the_exam(self, qp: QualiphyClinic) -> None:
        pharmacy = await partner_pharmacy(qp, "Harborview", states=["NY"])
        await link(qp, pharmacy, qp.catalog.glp1.id)
        response = await qp.post("partner_pharmacy_list", exam_ids=[qp.catalog.glp1.id], patient_state="TE")
        assert ids_of(response.json()) == [pharmacy.id]

    async def test_a_trailing_slash_and_a_bearer_key_work(self, qp: QualiphyClinic) -> None:
        pharmacy = await partner_pharmacy(qp, "Evergreen")
        await link(qp, pharmacy, qp.catalog.glp1.id)
        response = await qp.client.post(
            "/partner_pharmacy_list/",
            json={"exam_ids": [qp.catalog.glp1.id], "patient_state": "NY"},
            headers={"Authorization": f"Bearer {qp.api_key}"},
        )
        assert response.status_code == 200
        assert ids_of(response.json()) == [pharmacy.id]

    async def test_without_an_api_key_is_a_401(self, qp: QualiphyClinic) -> None:
        response = await qp.client.post(
            "/partner_pharmacy_list", json={"exam_ids": [1], "patient_state": "NY"}
        )
        assert response.status_code == 401
        assert response.json() == {"http_code": 401, "error_message": "api_key is required"}


class TestTreatmentPackages:
    async def test_lists_the_order_sets_with_their_drugs_and_legacy_ids(self, qp: QualiphyClinic) -> None:
        pharmacy = await partner_pharmacy(qp, "Evergreen")
        dose_1 = await order_set(qp, pharmacy, qp.catalog.glp1.id, "Semaglutide - Dose 1", Decimal("199.00"))
        dose_2 = await order_set(qp, pharmacy, qp.catalog.glp1.id, "Semaglutide - Dose 2", None)

        response = await qp.post(
            "partner_pharmacy_treatment_packages",
            pharmacy_ids=[pharmacy.id],
            exam_ids=[qp.catalog.glp1.id],
            patient_state="NY",
        )

        assert response.status_code == 200
        packages = response.json()
        assert ids_of(packages, "order_set_id") == [dose_1, dose_2]
        first = packages[0]
        assert first["exam_pos_id"] != first["order_set_id"]
        assert isinstance(first["exam_pos_id"], int)
        assert packages[1]["exam_pos_id"] != first["exam_pos_id"]
        assert first["title"] == "Semaglutide - Dose 1"
        assert first["qualiphy_total_price"] == "199.00" and first["price"] == "199.00"
        assert packages[1]["qualiphy_total_price"] is None and packages[1]["price"] is None
        assert first["pharmacy_id"] == pharmacy.id and first["pharmacy_name"] == pharmacy.name
        assert first["exam_id"] == qp.catalog.glp1.id
        assert first["items"] == [
            {
                "drug_name": "Semaglutide (compounded)",
                "strength": "2.5 mg/mL",
                "form": "injectable solution",
                "ndc": "00000-1101-01",
                "quantity": "1",
                "quantity_units": "mL",
                "refills": 0,
                "days_supply": 28,
                "directions": "Inject 0.25 mg under the skin once a week.",
                "schedule_code": None,
            },
            {
                "drug_name": "Insulin syringes",
                "strength": None,
                "form": "supply",
                "ndc": "00000-9901-10",
                "quantity": "10",
                "quantity_units": None,
                "refills": 0,
                "days_supply": None,
                "directions": None,
                "schedule_code": None,
            },
        ]

    async def test_only_the_pharmacies_and_exams_asked_for(self, qp: QualiphyClinic) -> None:
        first = await partner_pharmacy(qp, "Evergreen")
        second = await partner_pharmacy(qp, "Harborview")
        wanted = await order_set(qp, first, qp.catalog.glp1.id, "GLP-1 at first", Decimal("10"))
        await order_set(qp, first, qp.catalog.hair.id, "Hair at first", Decimal("10"))
        await order_set(qp, second, qp.catalog.glp1.id, "GLP-1 at second", Decimal("10"))
        response = await qp.post(
            "partner_pharmacy_treatment_packages",
            pharmacy_ids=first.id,
            exam_ids=qp.catalog.glp1.id,
            patient_state="CA",
        )
        assert ids_of(response.json(), "order_set_id") == [wanted]

    @pytest.mark.parametrize("pharmacy_ids", ["string", "string_array", "array_of_two"])
    async def test_pharmacy_ids_as_a_scalar_string_or_array(
        self, qp: QualiphyClinic, pharmacy_ids: str
    ) -> None:
        pharmacy = await partner_pharmacy(qp, "Evergreen")
        created = await order_set(qp, pharmacy, qp.catalog.glp1.id, "Dose 1", Decimal("99"))
        sent: Any = {
            "string": str(pharmacy.id),
            "string_array": [str(pharmacy.id)],
            "array_of_two": [pharmacy.id, pharmacy.id + 100000],
        }[pharmacy_ids]
        response = await qp.post(
            "partner_pharmacy_treatment_packages",
            pharmacy_ids=sent,
            exam_ids=[str(qp.catalog.glp1.id)],
            patient_state="NY",
        )
        assert ids_of(response.json(), "order_set_id") == [created]

    async def test_pharmacy_id_singular_gives_an_empty_array(self, qp: QualiphyClinic) -> None:
        pharmacy = await partner_pharmacy(qp, "Evergreen")
        await order_set(qp, pharmacy, qp.catalog.glp1.id, "Dose 1", Decimal("99"))
        response = await qp.post(
            "partner_pharmacy_treatment_packages",
            pharmacy_id=pharmacy.id,
            exam_ids=[qp.catalog.glp1.id],
            patient_state="NY",
        )
        assert response.status_code == 200
        assert response.json() == []

    async def test_without_patient_state_gives_an_empty_array(self, qp: QualiphyClinic) -> None:
        pharmacy = await partner_pharmacy(qp, "Evergreen")
        await order_set(qp, pharmacy, qp.catalog.glp1.id, "Dose 1", Decimal("99"))
        response = await qp.post(
            "partner_pharmacy_treatment_packages", pharmacy_ids=[pharmacy.id], exam_ids=[qp.catalog.glp1.id]
        )
        assert response.status_code == 200
        assert response.json() == []

    async def test_a_pharmacy_not_shipping_to_the_state_has_no_packages_there(
        self, qp: QualiphyClinic
    ) -> None:
        pharmacy = await partner_pharmacy(qp, "Harborview", states=["NY", "CA"])
        await order_set(qp, pharmacy, qp.catalog.glp1.id, "Dose 1", Decimal("99"))
        body = {"pharmacy_ids": [pharmacy.id], "exam_ids": [qp.catalog.glp1.id]}
        in_texas = await qp.post("partner_pharmacy_treatment_packages", patient_state="TX", **body)
        in_california = await qp.post("partner_pharmacy_treatment_packages", patient_state="CA", **body)
        assert in_texas.json() == []
        assert len(in_california.json()) == 1

    async def test_without_exam_ids_is_the_400_javascript_message(self, qp: QualiphyClinic) -> None:
        response = await qp.post("partner_pharmacy_treatment_packages", pharmacy_ids=[1], patient_state="NY")
        assert response.status_code == 400
        assert response.json() == {"http_code": 400, "error_message": MISSING_EXAM_IDS}

    async def test_another_clinic_sees_no_packages_of_this_clinics_exams(
        self, qp: QualiphyClinic, other_qp: QualiphyClinic
    ) -> None:
        pharmacy = await partner_pharmacy(qp, "Evergreen")
        await order_set(qp, pharmacy, qp.catalog.glp1.id, "Dose 1", Decimal("99"))
        response = await other_qp.post(
            "partner_pharmacy_treatment_packages",
            pharmacy_ids=[pharmacy.id],
            exam_ids=[qp.catalog.glp1.id],
            patient_state="NY",
        )
        assert response.status_code == 200
        assert response.json() == []


async def directory(qp: QualiphyClinic, *records: RetailPharmacyRecord) -> None:
    async with qp.runtime.sessions() as session, session.begin():
        await pharmacy_service.upsert_retail_pharmacies(
            session, records=records, source="csv", clock=qp.clock
        )


def unique_zip() -> str:
    """A random ZIP code, never one the demo directory or the import fixtures use."""
    while (zip_code := f"{secrets.randbelow(90000) + 10000}")[:3] in RESERVED_ZIP_PREFIXES:
        continue
    return zip_code


def unique_ncpdpid() -> str:
    return f"{secrets.randbelow(10**7):07d}"


def retail(name: str, zip_code: str, **fields: Any) -> RetailPharmacyRecord:
    values: dict[str, Any] = {
        "ncpdpid": unique_ncpdpid(),
        "address_line_1": "10 Main Street",
        "city": "Springfield",
        "state": "NY",
        "phone": "+12125550147",
        "pharmacy_type": "Retail",
    } | fields
    return RetailPharmacyRecord(name=name, zip_code=zip_code, **values)


class TestCustomPharmacySearch:
    async def test_by_zip_code_returns_the_fields_exam_invite_takes_back(self, qp: QualiphyClinic) -> None:
        zip_code = unique_zip()
        corner = retail(
            "Corner Pharmacy",
            zip_code,
            npi="1234567893",
            address_line_2="Suite 2",
            pharmacy_type="Compounding",
        )
        await directory(qp, corner, retail("Avenue Drugs", zip_code), retail("Elsewhere Rx", unique_zip()))

        response = await qp.post("custom_pharmacy_search", zip_code=zip_code)

        assert response.status_code == 200
        found = response.json()
        assert [entry["pharmacy_name"] for entry in found] == ["Avenue Drugs", "Corner Pharmacy"]
        assert found[1] == {
            "ncpdpid": corner.ncpdpid,
            "npi": "1234567893",
            "pharmacy_name": "Corner Pharmacy",
            "pharmacy_address_line_1": "10 Main Street",
            "pharmacy_address_line_2": "Suite 2",
            "pharmacy_city": "Springfield",
            "pharmacy_state": "NY",
            "pharmacy_zip_code": zip_code,
            "pharmacy_phone": "+12125550147",
            "pharmacy_type": "Compounding",
        }

    async def test_a_zip_plus_four_or_a_number_matches_the_five_digit_zip(self, qp: QualiphyClinic) -> None:
        zip_code = unique_zip()
        await directory(qp, retail("Corner Pharmacy", zip_code))
        plus_four = await qp.post("custom_pharmacy_search", zip_code=f"{zip_code}-1234")
        as_number = await qp.post("custom_pharmacy_search", zip_code=int(zip_code))
        assert [entry["pharmacy_zip_code"] for entry in plus_four.json()] == [zip_code]
        assert [entry["pharmacy_zip_code"] for entry in as_number.json()] == [zip_code]

    async def test_by_name_ignores_case_and_puts_names_starting_with_it_first(
        self, qp: QualiphyClinic
    ) -> None:
        word = f"zed{secrets.token_hex(3)}"
        zip_code = unique_zip()
        await directory(
            qp,
            retail(f"Apple {word} Pharmacy", zip_code),
            retail(f"{word.upper()} Drugs", zip_code),
            retail("Unrelated Pharmacy", zip_code),
        )
        response = await qp.post("custom_pharmacy_search", search=word.capitalize())
        assert [entry["pharmacy_name"] for entry in response.json()] == [
            f"{word.upper()} Drugs",
            f"Apple {word} Pharmacy",
        ]

    async def test_by_ncpdpid_exactly_even_sent_as_a_number(self, qp: QualiphyClinic) -> None:
        record = retail("Leading Zero Pharmacy", unique_zip(), ncpdpid=f"0{secrets.randbelow(10**6):06d}")
        await directory(qp, record)
        assert record.ncpdpid is not None
        as_text = await qp.post("custom_pharmacy_search", ncpdpid=record.ncpdpid)
        as_number = await qp.post("custom_pharmacy_search", ncpdpid=int(record.ncpdpid))
        assert [entry["ncpdpid"] for entry in as_text.json()] == [record.ncpdpid]
        assert [entry["ncpdpid"] for entry in as_number.json()] == [record.ncpdpid]

    async def test_criteria_combine(self, qp: QualiphyClinic) -> None:
        word = f"kay{secrets.token_hex(3)}"
        zip_code = unique_zip()
        await directory(qp, retail(f"{word} North", zip_code), retail(f"{word} South", unique_zip()))
        response = await qp.post("custom_pharmacy_search", search=word, zip_code=zip_code)
        assert [entry["pharmacy_name"] for entry in response.json()] == [f"{word} North"]

    async def test_like_wildcards_in_the_search_are_plain_characters(self, qp: QualiphyClinic) -> None:
        zip_code = unique_zip()
        await directory(qp, retail("Percent Pharmacy", zip_code))
        response = await qp.post("custom_pharmacy_search", search="%%", zip_code=zip_code)
        assert response.json() == []

    async def test_no_criterion_at_all_is_a_400(self, qp: QualiphyClinic) -> None:
        response = await qp.post("custom_pharmacy_search", search="  ")
        assert response.status_code == 400
        assert response.json() == {
            "http_code": 400,
            "error_message": "search, zip_code or ncpdpid is required",
        }

    async def test_a_malformed_zip_code_is_a_400(self, qp: QualiphyClinic) -> None:
        response = await qp.post("custom_pharmacy_search", zip_code="ABCDE")
        assert response.status_code == 400
        assert response.json()["error_message"].startswith("zip_code:")

    async def test_inactive_pharmacies_are_not_found(self, qp: QualiphyClinic) -> None:
        zip_code = unique_zip()
        npi = f"1{secrets.randbelow(10**9):09d}"
        await directory(qp, retail("Closing Pharmacy", zip_code, ncpdpid=None, npi=npi))
        async with qp.runtime.sessions() as session, session.begin():
            await pharmacy_service.deactivate_retail_pharmacies(session, npis=[npi], clock=qp.clock)
        response = await qp.post("custom_pharmacy_search", zip_code=zip_code)
        assert response.json() == []

    async def test_at_most_fifty_results(self, qp: QualiphyClinic) -> None:
        zip_code = unique_zip()
        await directory(qp, *(retail(f"Pharmacy {number:02d}", zip_code) for number in range(55)))
        response = await qp.post("custom_pharmacy_search", zip_code=zip_code)
        assert len(response.json()) == 50
        assert response.json()[0]["pharmacy_name"] == "Pharmacy 00"
