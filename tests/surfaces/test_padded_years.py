"""Years before 1000 are written with four digits (``0362-11-23T…``) by every formatter that writes a
date for a client (issue 15, item 8): no such year can be entered any more, but stored data may hold one,
and glibc's ``strftime("%Y")`` does not pad."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel

from clinicore.surfaces.intakeq.mappers import timestamp
from clinicore.web.console.clinic_time import ClinicTime

EARLY = datetime(362, 11, 23, 8, 5, 9, 123456, tzinfo=UTC)


def test_intakeq_timestamps_pad_the_year_and_keep_milliseconds() -> None:
    assert timestamp(EARLY) == "0362-11-23T08:05:09.123Z"
    assert timestamp(datetime(2026, 12, 1, 18, 0, tzinfo=UTC)) == "2026-12-01T18:00:00.000Z"


def test_the_consoles_date_inputs_pad_the_year() -> None:
    assert ClinicTime("UTC").input_value(EARLY) == "0362-11-23T08:05"


def test_json_answers_pad_the_year() -> None:
    class Answer(BaseModel):
        at: datetime

    assert Answer(at=EARLY).model_dump_json() == '{"at":"0362-11-23T08:05:09.123456Z"}'
