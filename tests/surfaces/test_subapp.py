"""A surface's words for core errors: ``wire_fields`` renames core field names in an error's field and
message, a ``subject.field`` key only for errors about that subject."""

from __future__ import annotations

from clinicore.kit.errors import Conflict, InvalidInput, NotFound
from clinicore.surfaces.subapp import code_for, in_wire_words

WIRE_FIELDS = {"practitioner_id": "assigned_to", "appointment.starts_at": "scheduled_at"}


class TestInWireWords:
    def test_the_field_and_its_name_in_the_message_are_renamed(self) -> None:
        error = InvalidInput("practitioner_id: the practitioner is not active", field="practitioner_id")
        words = in_wire_words(error, WIRE_FIELDS)
        assert (words.message, words.field) == ("assigned_to: the practitioner is not active", "assigned_to")

    def test_other_core_fields_named_in_the_message_are_renamed_too(self) -> None:
        error = InvalidInput("ends_at: must be after starts_at", field="ends_at", subject="appointment")
        words = in_wire_words(error, WIRE_FIELDS)
        assert (words.message, words.field) == ("ends_at: must be after scheduled_at", "ends_at")

    def test_a_subject_key_applies_only_to_errors_about_that_subject(self) -> None:
        error = InvalidInput("ends_at: must be after starts_at", field="ends_at", subject="block")
        assert in_wire_words(error, WIRE_FIELDS).message == "ends_at: must be after starts_at"

    def test_only_whole_words_are_renamed(self) -> None:
        error = InvalidInput("booking.starts_at_local and starts_at_utc differ", subject="appointment")
        assert in_wire_words(error, WIRE_FIELDS).message == error.message

    def test_without_a_map_the_core_words_stay(self) -> None:
        error = InvalidInput("practitioner_id: unknown", field="practitioner_id")
        words = in_wire_words(error, {})
        assert (words.message, words.field) == ("practitioner_id: unknown", "practitioner_id")


class TestCodeFor:
    def test_the_code_of_the_usual_status_is_kept(self) -> None:
        assert code_for(Conflict("taken"), 409) == "conflict"

    def test_an_error_answered_with_another_status_takes_that_status_code(self) -> None:
        assert code_for(NotFound("lead_id: no such lead", field="lead_id"), 400) == "invalid_input"
