"""One reading of emails and phone numbers for every domain (kit/contact.py)."""

from __future__ import annotations

import pytest

from clinicore.kit import contact
from clinicore.kit.errors import InvalidInput


class TestNormalise:
    @pytest.mark.parametrize(
        ("raw", "e164"),
        [
            ("+15552223232", "+15552223232"),
            ("1234567890", "+11234567890"),
            ("(212) 555-0100", "+12125550100"),
            ("1-212-555-0100", "+12125550100"),
        ],
    )
    def test_phones_become_e164(self, raw: str, e164: str) -> None:
        assert contact.normalise_phone(raw) == e164

    @pytest.mark.parametrize("raw", ["12345", "phone", "", "+1 212"])
    def test_impossible_phones_are_refused_naming_the_field(self, raw: str) -> None:
        with pytest.raises(InvalidInput) as caught:
            contact.normalise_phone(raw, field="phone_number")
        assert caught.value.message.startswith("phone_number: ")

    def test_emails_keep_the_local_part_and_lower_case_the_domain(self) -> None:
        assert contact.normalise_email(" Jane.Doe@Patients.Example.COM ") == "Jane.Doe@patients.example.com"

    @pytest.mark.parametrize("raw", ["jane", "jane@", "@example.com", "jane doe@example.com"])
    def test_invalid_emails_are_refused(self, raw: str) -> None:
        with pytest.raises(InvalidInput) as caught:
            contact.normalise_email(raw)
        assert caught.value.message.startswith("email: ")

    def test_a_possible_number_is_enough_unless_a_valid_one_is_asked_for(self) -> None:
        assert contact.normalise_phone("+15552223232") == "+15552223232"  # the doc's sample number
        with pytest.raises(InvalidInput, match=r"^phone: not a valid phone number"):
            contact.normalise_phone("+15552223232", valid=True)

    def test_a_national_number_is_read_in_the_region_given(self) -> None:
        assert contact.normalise_phone("020 7946 0018", region="gb") == "+442079460018"

    def test_emails_are_compared_without_case(self) -> None:
        assert contact.email_key(" Jane.Doe@patients.example.com") == "jane.doe@patients.example.com"

    def test_a_directory_keeps_what_it_cannot_read(self) -> None:
        assert contact.phone_or_as_written(" ask the front desk ") == "ask the front desk"
        assert contact.phone_or_as_written("12345") == "12345"
        assert contact.phone_or_as_written("(202) 456-1111") == "+12024561111"
        assert contact.phone_or_as_written("  ") is None
