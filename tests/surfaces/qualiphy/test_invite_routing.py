"""``/exam_invite`` pharmacy routing: the four scenarios (GFE, partner pharmacy, custom pharmacy,
provider's choice) stored on the meeting, and every refusal. Partner pharmacies and order sets are
arranged directly through the models."""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import pytest

from clinicore.core.models import (
    Exam,
    OrderSet,
    PartnerPharmacy,
    PartnerPharmacyExam,
    PartnerPharmacyState,
)
from tests.surfaces.qualiphy.conftest import NOW, QualiphyClinic
from tests.surfaces.qualiphy.test_exam_invite import (
    error_of,
    invite,
    invite_body,
    read_meeting,
    te_invite_body,
)

_exam_pos_ids = itertools.count(secrets.randbelow(10**6) * 1000 + 7_000_000)

CVS = {
    "ncpdpid": "3345678",
    "pharmacy_name": "CVS Pharmacy #1234",
    "pharmacy_address_line_1": "350 5th Ave",
    "pharmacy_city": "New York",
    "pharmacy_state": "NY",
    "pharmacy_zip_code": "10001",
    "pharmacy_phone": "+12125550111",
}


async def create_pharmacy(
    qp: QualiphyClinic, *, exams: Sequence[Exam], states: Sequence[str] = ("NY", "CA"), active: bool = True
) -> PartnerPharmacy:
    async with qp.runtime.sessions() as session, session.begin():
        pharmacy = PartnerPharmacy(name="Empower Pharmacy", is_active=active, created_at=NOW)
        session.add(pharmacy)
        await session.flush()
        session.add_all(PartnerPharmacyState(pharmacy_id=pharmacy.id, state=state) for state in states)
        session.add_all(
            PartnerPharmacyExam(pharmacy_id=pharmacy.id, exam_id=exam.id, clinic_id=exam.clinic_id)
            for exam in exams
        )
    return pharmacy


async def create_order_set(
    qp: QualiphyClinic, pharmacy: PartnerPharmacy, exam: Exam, *, active: bool = True
) -> OrderSet:
    async with qp.runtime.sessions() as session, session.begin():
        order_set = OrderSet(
            exam_pos_id=next(_exam_pos_ids),
            clinic_id=exam.clinic_id,
            exam_id=exam.id,
            pharmacy_id=pharmacy.id,
            title="Semaglutide 2.5 mg/mL, 1 mL",
            price=Decimal("199.00"),
            is_active=active,
            created_at=NOW,
        )
        session.add(order_set)
    return order_set


class TestGfe:
    async def test_routing_parameters_of_a_gfe_only_invite_are_ignored(self, qp: QualiphyClinic) -> None:
        body = await invite(
            qp,
            invite_body(
                qp.catalog.botox.id, custom_pharmacy=7, pharmacy_id=1, provider_pos_selection=9, **CVS
            ),
        )
        meeting = await read_meeting(qp, body["meeting_uuid"])
        assert (
            meeting.pharmacy_routing is None and meeting.pharmacy_id is None and meeting.order_set_id is None
        )
        assert meeting.ncpdpid is None and meeting.provider_chooses is None
        assert meeting.skip_pharmacy_confirmation is False


class TestPartnerPharmacy:
    async def test_pharmacy_and_order_set_are_stored(self, qp: QualiphyClinic) -> None:
        pharmacy = await create_pharmacy(qp, exams=[qp.catalog.glp1])
        order_set = await create_order_set(qp, pharmacy, qp.catalog.glp1)
        body = await invite(
            qp,
            invite_body(
                qp.catalog.botox.id,
                qp.catalog.glp1.id,
                custom_pharmacy="2",
                pharmacy_id=str(pharmacy.id),
                order_set_id=order_set.id,
                **CVS,  # custom-pharmacy fields do not apply to partner routing
            ),
        )
        meeting = await read_meeting(qp, body["meeting_uuid"])
        assert (meeting.pharmacy_routing, meeting.pharmacy_id, meeting.order_set_id) == (
            "partner",
            pharmacy.id,
            order_set.id,
        )
        assert meeting.provider_chooses is None and meeting.ncpdpid is None

    async def test_without_custom_pharmacy_an_rx_goes_to_the_partner_network(
        self, qp: QualiphyClinic
    ) -> None:
        body = await invite(qp, invite_body(qp.catalog.glp1.id))
        meeting = await read_meeting(qp, body["meeting_uuid"])
        assert (meeting.pharmacy_routing, meeting.pharmacy_id, meeting.order_set_id) == (
            "partner",
            None,
            None,
        )

    async def test_exam_pos_id_is_the_legacy_fallback_for_order_set_id(self, qp: QualiphyClinic) -> None:
        pharmacy = await create_pharmacy(qp, exams=[qp.catalog.glp1])
        order_set = await create_order_set(qp, pharmacy, qp.catalog.glp1)
        body = await invite(qp, invite_body(qp.catalog.glp1.id, exam_pos_id=str(order_set.exam_pos_id)))
        meeting = await read_meeting(qp, body["meeting_uuid"])
        # The order set names its pharmacy.
        assert (meeting.pharmacy_id, meeting.order_set_id) == (pharmacy.id, order_set.id)

    async def test_order_set_id_wins_over_exam_pos_id(self, qp: QualiphyClinic) -> None:
        pharmacy = await create_pharmacy(qp, exams=[qp.catalog.glp1])
        first = await create_order_set(qp, pharmacy, qp.catalog.glp1)
        second = await create_order_set(qp, pharmacy, qp.catalog.glp1)
        body = await invite(
            qp, invite_body(qp.catalog.glp1.id, order_set_id=second.id, exam_pos_id=first.exam_pos_id)
        )
        assert (await read_meeting(qp, body["meeting_uuid"])).order_set_id == second.id

    async def test_a_pharmacy_that_does_not_ship_to_the_tele_state_is_refused(
        self, qp: QualiphyClinic
    ) -> None:
        pharmacy = await create_pharmacy(qp, exams=[qp.catalog.glp1], states=("CA",))
        message = await error_of(qp, invite_body(qp.catalog.glp1.id, pharmacy_id=pharmacy.id))
        assert message == f"pharmacy_id: partner pharmacy {pharmacy.id} does not ship to NY"

    async def test_test_mode_does_not_check_shipping_states(self, qp: QualiphyClinic) -> None:
        pharmacy = await create_pharmacy(qp, exams=[qp.catalog.glp1], states=("CA",))
        body = await invite(qp, te_invite_body(qp.catalog.glp1.id, pharmacy_id=pharmacy.id))
        assert (await read_meeting(qp, body["meeting_uuid"])).pharmacy_id == pharmacy.id

    async def test_a_pharmacy_not_serving_the_exam_is_refused(self, qp: QualiphyClinic) -> None:
        pharmacy = await create_pharmacy(qp, exams=[qp.catalog.hair])
        message = await error_of(qp, invite_body(qp.catalog.glp1.id, pharmacy_id=pharmacy.id))
        assert message.startswith(f"pharmacy_id: partner pharmacy {pharmacy.id} does not fulfil exam")

    async def test_a_pharmacy_serving_the_exam_for_another_clinic_is_refused(
        self, qp: QualiphyClinic, other_qp: QualiphyClinic
    ) -> None:
        pharmacy = await create_pharmacy(other_qp, exams=[other_qp.catalog.glp1])
        message = await error_of(qp, invite_body(qp.catalog.glp1.id, pharmacy_id=pharmacy.id))
        assert "does not fulfil exam" in message

    async def test_an_inactive_or_unknown_pharmacy_is_refused(self, qp: QualiphyClinic) -> None:
        inactive = await create_pharmacy(qp, exams=[qp.catalog.glp1], active=False)
        for pharmacy_id in (inactive.id, 99999999):
            message = await error_of(qp, invite_body(qp.catalog.glp1.id, pharmacy_id=pharmacy_id))
            assert message == f"pharmacy_id: no such partner pharmacy {pharmacy_id}"

    async def test_order_sets_must_belong_to_the_exam_the_pharmacy_and_the_clinic(
        self, qp: QualiphyClinic, other_qp: QualiphyClinic
    ) -> None:
        pharmacy = await create_pharmacy(qp, exams=[qp.catalog.glp1, qp.catalog.hair])
        other_pharmacy = await create_pharmacy(qp, exams=[qp.catalog.glp1])
        hair_set = await create_order_set(qp, pharmacy, qp.catalog.hair)
        inactive_set = await create_order_set(qp, pharmacy, qp.catalog.glp1, active=False)
        elsewhere_set = await create_order_set(qp, other_pharmacy, qp.catalog.glp1)
        theirs = await create_order_set(
            other_qp, await create_pharmacy(other_qp, exams=[other_qp.catalog.glp1]), other_qp.catalog.glp1
        )
        glp1 = qp.catalog.glp1.id
        cases: list[tuple[dict[str, Any], str]] = [
            (
                {"order_set_id": hair_set.id},
                f"order set {hair_set.id} is not an active order set of exam {glp1}",
            ),
            ({"order_set_id": inactive_set.id}, "is not an active order set"),
            (
                {"order_set_id": elsewhere_set.id, "pharmacy_id": pharmacy.id},
                f"belongs to another pharmacy than {pharmacy.id}",
            ),
            ({"order_set_id": theirs.id}, f"order_set_id: no such order set {theirs.id}"),
            ({"exam_pos_id": theirs.exam_pos_id}, f"exam_pos_id: no such order set {theirs.exam_pos_id}"),
        ]
        for fields, expected in cases:
            assert expected in await error_of(qp, invite_body(glp1, **fields))


class TestCustomPharmacy:
    async def test_a_preselected_custom_pharmacy_is_stored_and_skips_confirmation(
        self, qp: QualiphyClinic
    ) -> None:
        body = await invite(
            qp,
            invite_body(
                qp.catalog.glp1.id,
                custom_pharmacy=1,
                skip_pharmacy_confirmation=2,
                custom_pharmacy_patient_choice=1,
                custom_pharmacy_patient_billing=1,
                custom_pharmacy_clinic_billing=1,
                custom_pharmacy_delivery_method="2",
                pharmacy_type="retail",
                pharmacy_id=5,  # partner routing does not apply to a custom pharmacy
                **CVS,
            ),
        )
        meeting = await read_meeting(qp, body["meeting_uuid"])
        assert meeting.pharmacy_routing == "retail" and meeting.pharmacy_id is None
        assert (meeting.ncpdpid, meeting.pharmacy_name, meeting.pharmacy_city) == (
            "3345678",
            "CVS Pharmacy #1234",
            "New York",
        )
        assert (meeting.pharmacy_state, meeting.pharmacy_zip_code, meeting.pharmacy_phone) == (
            "NY",
            "10001",
            "+12125550111",
        )
        assert meeting.pharmacy_type == "retail"
        assert meeting.skip_pharmacy_confirmation is True
        assert meeting.patient_chooses_pharmacy is False
        assert (
            meeting.pharmacy_bills,
            meeting.clinic_billing_reference,
            meeting.delivery_method,
        ) == ("clinic", "1", "ship")

    async def test_skipping_confirmation_needs_every_pharmacy_field(self, qp: QualiphyClinic) -> None:
        fields = {**CVS, "pharmacy_phone": None}
        body = await invite(
            qp, invite_body(qp.catalog.glp1.id, custom_pharmacy=1, skip_pharmacy_confirmation=2, **fields)
        )
        assert (await read_meeting(qp, body["meeting_uuid"])).skip_pharmacy_confirmation is False

    async def test_a_preselected_custom_pharmacy_needs_its_ncpdpid(self, qp: QualiphyClinic) -> None:
        message = await error_of(
            qp, invite_body(qp.catalog.glp1.id, custom_pharmacy=1, **{**CVS, "ncpdpid": None})
        )
        assert message.startswith("ncpdpid is required for a custom pharmacy (custom_pharmacy 1)")

    async def test_the_patient_may_choose_the_pharmacy_at_the_meeting(self, qp: QualiphyClinic) -> None:
        body = await invite(
            qp, invite_body(qp.catalog.glp1.id, custom_pharmacy=1, custom_pharmacy_patient_choice=2)
        )
        meeting = await read_meeting(qp, body["meeting_uuid"])
        assert (meeting.pharmacy_routing, meeting.patient_chooses_pharmacy, meeting.ncpdpid) == (
            "retail",
            True,
            None,
        )

    async def test_a_malformed_ncpdpid_is_refused(self, qp: QualiphyClinic) -> None:
        message = await error_of(
            qp, invite_body(qp.catalog.glp1.id, custom_pharmacy=1, **{**CVS, "ncpdpid": "12AB"})
        )
        assert message == "ncpdpid: must be the pharmacy's 7-digit NCPDP id"

    @pytest.mark.parametrize("value", [0, 3, "custom"])
    async def test_custom_pharmacy_other_than_1_or_2_is_refused(self, qp: QualiphyClinic, value: Any) -> None:
        message = await error_of(qp, invite_body(qp.catalog.glp1.id, custom_pharmacy=value))
        if value == "custom":
            assert message == "custom_pharmacy: must be a number"
        else:
            assert message.startswith("custom_pharmacy: must be 1 (custom pharmacy) or 2 (partner pharmacy)")

    @pytest.mark.parametrize(
        "field",
        [
            "custom_pharmacy_patient_choice",
            "skip_pharmacy_confirmation",
            "custom_pharmacy_patient_billing",
            "custom_pharmacy_delivery_method",
        ],
    )
    async def test_custom_pharmacy_options_are_1_or_2(self, qp: QualiphyClinic, field: str) -> None:
        message = await error_of(qp, invite_body(qp.catalog.glp1.id, custom_pharmacy=1, **{**CVS, field: 3}))
        assert message.startswith(f"{field}: must be 1 (")


class TestUrgentCare:
    @pytest.mark.parametrize("routing", [{}, {"custom_pharmacy": 2}, {"custom_pharmacy": 1}])
    async def test_urgent_care_needs_a_custom_pharmacy(
        self, qp: QualiphyClinic, routing: dict[str, Any]
    ) -> None:
        message = await error_of(qp, invite_body(qp.catalog.uti.id, **routing))
        if routing.get("custom_pharmacy") == 1:
            assert message.startswith("ncpdpid is required")
        else:
            assert message.startswith("custom_pharmacy: Urgent Care - UTI is an Urgent Care exam")

    async def test_urgent_care_with_a_custom_pharmacy_or_the_patients_choice(
        self, qp: QualiphyClinic
    ) -> None:
        chosen = await invite(qp, invite_body(qp.catalog.uti.id, custom_pharmacy=1, **CVS))
        assert (await read_meeting(qp, chosen["meeting_uuid"])).ncpdpid == "3345678"
        by_patient = await invite(
            qp, invite_body(qp.catalog.uti.id, custom_pharmacy=1, custom_pharmacy_patient_choice=2)
        )
        assert (await read_meeting(qp, by_patient["meeting_uuid"])).patient_chooses_pharmacy is True


class TestProvidersChoice:
    async def test_1_you_specify_both(self, qp: QualiphyClinic) -> None:
        pharmacy = await create_pharmacy(qp, exams=[qp.catalog.glp1])
        order_set = await create_order_set(qp, pharmacy, qp.catalog.glp1)
        glp1 = qp.catalog.glp1.id
        message = await error_of(qp, invite_body(glp1, provider_pos_selection=1, pharmacy_id=pharmacy.id))
        assert message.startswith("order_set_id is required with provider_pos_selection 1")
        message = await error_of(qp, invite_body(glp1, provider_pos_selection=1))
        assert message.startswith("pharmacy_id is required with provider_pos_selection 1")
        body = await invite(
            qp,
            invite_body(glp1, provider_pos_selection=1, pharmacy_id=pharmacy.id, order_set_id=order_set.id),
        )
        meeting = await read_meeting(qp, body["meeting_uuid"])
        assert (meeting.provider_chooses, meeting.pharmacy_id, meeting.order_set_id) == (
            "nothing",
            pharmacy.id,
            order_set.id,
        )

    async def test_2_the_provider_picks_the_order_set(self, qp: QualiphyClinic) -> None:
        pharmacy = await create_pharmacy(qp, exams=[qp.catalog.glp1])
        glp1 = qp.catalog.glp1.id
        message = await error_of(qp, invite_body(glp1, provider_pos_selection=2))
        assert message.startswith("pharmacy_id is required with provider_pos_selection 2")
        body = await invite(qp, invite_body(glp1, provider_pos_selection="2", pharmacy_id=pharmacy.id))
        meeting = await read_meeting(qp, body["meeting_uuid"])
        assert (meeting.provider_chooses, meeting.pharmacy_id, meeting.order_set_id) == (
            "order_set",
            pharmacy.id,
            None,
        )

    async def test_2_with_an_order_set_takes_it_as_the_providers_starting_suggestion(
        self, qp: QualiphyClinic
    ) -> None:
        pharmacy = await create_pharmacy(qp, exams=[qp.catalog.glp1])
        order_set = await create_order_set(qp, pharmacy, qp.catalog.glp1)
        body = await invite(
            qp,
            invite_body(
                qp.catalog.glp1.id,
                provider_pos_selection=2,
                pharmacy_id=pharmacy.id,
                order_set_id=order_set.id,
            ),
        )
        meeting = await read_meeting(qp, body["meeting_uuid"])
        assert (meeting.provider_chooses, meeting.order_set_id) == ("order_set", order_set.id)

    async def test_3_the_provider_picks_both(self, qp: QualiphyClinic) -> None:
        pharmacy = await create_pharmacy(qp, exams=[qp.catalog.glp1])
        message = await error_of(
            qp, invite_body(qp.catalog.glp1.id, provider_pos_selection=3, pharmacy_id=pharmacy.id)
        )
        assert message.startswith("pharmacy_id: with provider_pos_selection 3 the provider picks")
        body = await invite(qp, invite_body(qp.catalog.glp1.id, provider_pos_selection=3))
        meeting = await read_meeting(qp, body["meeting_uuid"])
        assert (meeting.pharmacy_routing, meeting.provider_chooses, meeting.pharmacy_id) == (
            "partner",
            "pharmacy_and_order_set",
            None,
        )

    async def test_other_selections_are_refused(self, qp: QualiphyClinic) -> None:
        message = await error_of(qp, invite_body(qp.catalog.glp1.id, provider_pos_selection=4))
        assert message.startswith(
            "provider_pos_selection: must be 1 (you specify pharmacy_id and order_set_id)"
        )


class TestWhatRealIntegrationsSend:
    """Fields that the chosen routing ignores are ignored whatever their type, and the legacy
    ``exam_pos_id`` works wherever ``order_set_id`` does, as real integrations expect."""

    @pytest.mark.parametrize(
        "ignored",
        [
            {"custom_pharmacy_clinic_billing": "Glow Medspa Downtown"},
            {"custom_pharmacy_patient_choice": "yes", "skip_pharmacy_confirmation": {"a": 1}},
            {"ncpdpid": 12, "pharmacy_state": ["NY"], "custom_pharmacy_delivery_method": "ship"},
        ],
    )
    async def test_partner_routing_ignores_custom_pharmacy_fields_of_any_type(
        self, qp: QualiphyClinic, ignored: dict[str, Any]
    ) -> None:
        pharmacy = await create_pharmacy(qp, exams=[qp.catalog.glp1])
        order_set = await create_order_set(qp, pharmacy, qp.catalog.glp1)
        for custom_pharmacy in (2, "2", None):
            body = await invite(
                qp,
                invite_body(
                    qp.catalog.glp1.id,
                    custom_pharmacy=custom_pharmacy,
                    pharmacy_id=pharmacy.id,
                    order_set_id=order_set.id,
                    **ignored,
                ),
            )
            meeting = await read_meeting(qp, body["meeting_uuid"])
            assert (meeting.pharmacy_routing, meeting.pharmacy_id, meeting.order_set_id) == (
                "partner",
                pharmacy.id,
                order_set.id,
            )
            assert meeting.clinic_billing_reference is None and meeting.ncpdpid is None

    async def test_custom_routing_ignores_partner_fields_of_any_type(self, qp: QualiphyClinic) -> None:
        body = await invite(
            qp,
            invite_body(
                qp.catalog.glp1.id,
                custom_pharmacy=1,
                pharmacy_id="Empower",
                order_set_id={"id": 1},
                exam_pos_id=[1],
                provider_pos_selection="provider",
                **CVS,
            ),
        )
        meeting = await read_meeting(qp, body["meeting_uuid"])
        assert (meeting.pharmacy_routing, meeting.ncpdpid, meeting.pharmacy_id) == ("retail", "3345678", None)

    async def test_the_clinic_billing_name_is_kept_under_custom_routing(self, qp: QualiphyClinic) -> None:
        body = await invite(
            qp,
            invite_body(
                qp.catalog.glp1.id,
                custom_pharmacy=1,
                custom_pharmacy_patient_billing=1,
                custom_pharmacy_clinic_billing="Glow Medspa Downtown",
                **CVS,
            ),
        )
        meeting = await read_meeting(qp, body["meeting_uuid"])
        assert meeting.clinic_billing_reference == "Glow Medspa Downtown"

    async def test_the_chosen_routings_own_fields_are_still_checked(self, qp: QualiphyClinic) -> None:
        message = await error_of(
            qp, invite_body(qp.catalog.glp1.id, custom_pharmacy=2, pharmacy_id="Empower")
        )
        assert message == "pharmacy_id: must be a number"
        message = await error_of(
            qp, invite_body(qp.catalog.glp1.id, custom_pharmacy=1, custom_pharmacy_patient_choice="x", **CVS)
        )
        assert message == "custom_pharmacy_patient_choice: must be a number"

    async def test_legacy_exam_pos_id_with_provider_pos_selection_2_is_the_suggested_order_set(
        self, qp: QualiphyClinic
    ) -> None:
        pharmacy = await create_pharmacy(qp, exams=[qp.catalog.glp1])
        order_set = await create_order_set(qp, pharmacy, qp.catalog.glp1)
        for pharmacy_id in (pharmacy.id, None):  # the order set names its pharmacy
            body = await invite(
                qp,
                invite_body(
                    qp.catalog.glp1.id,
                    custom_pharmacy=2,
                    provider_pos_selection=2,
                    pharmacy_id=pharmacy_id,
                    exam_pos_id=str(order_set.exam_pos_id),
                ),
            )
            meeting = await read_meeting(qp, body["meeting_uuid"])
            assert (meeting.provider_chooses, meeting.pharmacy_id, meeting.order_set_id) == (
                "order_set",
                pharmacy.id,
                order_set.id,
            )

    async def test_legacy_exam_pos_id_with_provider_pos_selection_1_is_the_order_set(
        self, qp: QualiphyClinic
    ) -> None:
        pharmacy = await create_pharmacy(qp, exams=[qp.catalog.glp1])
        order_set = await create_order_set(qp, pharmacy, qp.catalog.glp1)
        body = await invite(
            qp,
            invite_body(
                qp.catalog.glp1.id,
                provider_pos_selection=1,
                pharmacy_id=pharmacy.id,
                exam_pos_id=order_set.exam_pos_id,
            ),
        )
        assert (await read_meeting(qp, body["meeting_uuid"])).order_set_id == order_set.id
