"""The console's forms, one model each, as ``forms.submit_form`` reads them.

Every field is bounded (the column's length, or what a reader accepts), so that no input reaches the
database as a 500. A reader turns the typed text into a value or refuses with an ``InvalidInput`` naming
the field as the page labels it (``date: enter a date as YYYY-MM-DD``). The rules about the values
themselves (a length the clinic can book, a status move) stay in the core; a form only reads.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime, time
from enum import StrEnum
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BeforeValidator, StringConstraints, model_validator

from clinicore.core.models import (
    AgentDirection,
    ApiKeyKind,
    AttemptOutcome,
    CampaignStatus,
    WebhookFormat,
)
from clinicore.core.scheduling.availability import LocalRange
from clinicore.kit.errors import InvalidInput
from clinicore.web.console.clinic_time import parse_date, parse_local_datetime, parse_time
from clinicore.web.console.forms import ConsoleForm

T = TypeVar("T")
E = TypeVar("E", bound=StrEnum)

WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
# The longest text a reader looks at: a date, a time, a number, an id, a day's hours.
READABLE_LENGTH = 200
_RANGE = re.compile(r"^\s*(\d{1,2}:\d{2})\s*[-–]\s*(\d{1,2}:\d{2})\s*$")


# --- readers: typed text to a value, or an InvalidInput naming the field ---------------------------


def parse_whole_number(raw: str, *, field: str) -> int:
    try:
        return int(raw.strip())
    except ValueError:
        raise InvalidInput(f"{field}: enter a whole number", field=field) from None


def parse_id(raw: str, *, field: str) -> uuid.UUID:
    try:
        return uuid.UUID(raw.strip())
    except ValueError:
        raise InvalidInput(f"{field}: unknown choice", field=field) from None


def parse_ranges(raw: str, *, field: str) -> list[LocalRange]:
    """``09:00-12:00, 13:00-17:00``; an end at or before the start runs past midnight (``22:00-02:00``)."""
    if not raw.strip():
        return []
    ranges = []
    for part in raw.split(","):
        match = _RANGE.match(part)
        if match is None:
            raise InvalidInput(f"{field}: write hours like 09:00-12:00, 13:00-17:00", field=field)
        ranges.append(LocalRange(parse_time(match[1], field=field), parse_time(match[2], field=field)))
    return ranges


def reads(
    parse: Callable[..., object], *, field: str, optional: bool = False, max_length: int = READABLE_LENGTH
) -> BeforeValidator:
    """A field read by ``parse(raw, field=...)``; ``optional``: blank reads as None."""

    def read(raw: object) -> object:
        if not isinstance(raw, str):
            return raw
        if len(raw) > max_length:
            raise InvalidInput(f"{field}: at most {max_length} characters", field=field)
        if optional and not raw.strip():
            return None
        return parse(raw, field=field)

    return BeforeValidator(read)


def one_of(choices: Iterable[E], message: str, *, field: str) -> BeforeValidator:
    """A select: one of ``choices`` by value, else ``message``."""
    by_value = {str(choice): choice for choice in choices}

    def read(raw: object) -> object:
        if not isinstance(raw, str):
            return raw
        if raw not in by_value:
            raise InvalidInput(message, field=field)
        return by_value[raw]

    return BeforeValidator(read)


def _blank_is_none(raw: object) -> object:
    return (raw.strip() or None) if isinstance(raw, str) else raw


def _checked(raw: object) -> object:
    return bool(raw) if isinstance(raw, str) else raw


# --- field types -----------------------------------------------------------------------------------

Blank = Annotated[T | None, BeforeValidator(_blank_is_none)]  # blank or spaces only: None, else stripped
# A checked box posts its value, an unchecked one posts nothing.
Checkbox = Annotated[bool, BeforeValidator(_checked)]
Name = Annotated[str, StringConstraints(max_length=200)]
Title = Annotated[str, StringConstraints(max_length=300)]
Phone = Annotated[str, StringConstraints(max_length=32)]
Interest = Annotated[str, StringConstraints(max_length=200)]
City = Annotated[str, StringConstraints(max_length=100)]
Email = Annotated[str, StringConstraints(max_length=320)]
CountryCode = Annotated[str, StringConstraints(max_length=2)]
Language = Annotated[str, StringConstraints(max_length=35)]
TimeZoneName = Annotated[str, StringConstraints(max_length=64)]
Notes = Annotated[str, StringConstraints(max_length=5000)]
Reason = Annotated[str, StringConstraints(max_length=500)]
Url = Annotated[str, StringConstraints(max_length=2048)]
EventTypes = Annotated[str, StringConstraints(max_length=2000)]
Password = Annotated[str, StringConstraints(max_length=1024)]
LocalPath = Annotated[str, StringConstraints(max_length=2000)]

Day = Annotated[date, reads(parse_date, field="date")]


class EmptyForm(ConsoleForm):
    """A button: the form carries nothing but its CSRF token."""


# --- sign-in and keys ------------------------------------------------------------------------------


class SignInForm(ConsoleForm):
    email: Email = ""
    password: Password = ""
    next: LocalPath = "/console"


# Keys a console user creates and sees once; Qualiphy and IntakeQ practice keys are rotated instead.
CREATABLE_KINDS = (ApiKeyKind.qualifybase, ApiKeyKind.native)
ROTATABLE_KINDS = (ApiKeyKind.qualiphy, ApiKeyKind.intakeq_practice)


class KeyForm(ConsoleForm):
    kind: Annotated[
        ApiKeyKind, one_of((*CREATABLE_KINDS, *ROTATABLE_KINDS), "Choose a key kind.", field="kind")
    ]
    name: Name = ""


# --- webhooks --------------------------------------------------------------------------------------

# Formats a clinic adds by hand, as the select shows them. A qualiphy endpoint hears every exam of the
# clinic, beside the endpoint each invite's webhook_url creates.
FORMAT_LABELS = {
    WebhookFormat.native: "native",
    WebhookFormat.qualifybase: "qualifybase",
    WebhookFormat.intakeq: "intakeq",
    WebhookFormat.qualiphy: "Qualiphy (events 1/2/3)",
}


class EndpointForm(ConsoleForm):
    format: Annotated[WebhookFormat, one_of(FORMAT_LABELS, "Choose a format.", field="format")]
    url: Url = ""
    events: EventTypes = ""


class EnableEndpointForm(ConsoleForm):
    replay_backlog: Checkbox = False


class StrictOrderForm(ConsoleForm):
    strict_order: Checkbox = False


class ReplayWindowForm(ConsoleForm):
    since: Annotated[datetime | None, reads(parse_local_datetime, field="since", optional=True)] = None
    until: Annotated[datetime | None, reads(parse_local_datetime, field="until", optional=True)] = None

    @model_validator(mode="after")
    def _since_is_given(self) -> ReplayWindowForm:
        if self.since is None:
            raise InvalidInput("since: enter when the replay starts", field="since")
        return self


# --- scheduling ------------------------------------------------------------------------------------


class BookingForm(ConsoleForm):
    """A booking from the calendar or a lead's page, in clinic-local date and time."""

    practitioner_id: Annotated[uuid.UUID | None, reads(parse_id, field="practitioner", optional=True)] = None
    day: Day
    start: Annotated[time, reads(parse_time, field="time")]
    length: Annotated[int, reads(parse_whole_number, field="length")]
    title: Title = ""
    notes: Blank[Notes] = None


class CancelAppointmentForm(ConsoleForm):
    reason: Blank[Reason] = None


class BookingRulesForm(ConsoleForm):
    buffer_before_minutes: Annotated[int, reads(parse_whole_number, field="buffer_before_minutes")]
    buffer_after_minutes: Annotated[int, reads(parse_whole_number, field="buffer_after_minutes")]
    minimum_notice_minutes: Annotated[int, reads(parse_whole_number, field="minimum_notice_minutes")]
    horizon_days: Annotated[int, reads(parse_whole_number, field="horizon_days")]
    default_length_minutes: Annotated[int, reads(parse_whole_number, field="default_length_minutes")]
    slot_interval_minutes: Annotated[
        int | None, reads(parse_whole_number, field="slot_interval_minutes", optional=True)
    ] = None


class PractitionerForm(ConsoleForm):
    name: Name = ""
    email: Blank[Email] = None
    time_zone: Blank[TimeZoneName] = None
    bookable: Checkbox = False


def _weekday(day: int) -> BeforeValidator:
    return reads(parse_ranges, field=WEEKDAY_NAMES[day])


class WeeklyHoursForm(ConsoleForm):
    """One field per weekday (``day0`` is Monday); an empty day is a day off."""

    day0: Annotated[list[LocalRange], _weekday(0)] = []
    day1: Annotated[list[LocalRange], _weekday(1)] = []
    day2: Annotated[list[LocalRange], _weekday(2)] = []
    day3: Annotated[list[LocalRange], _weekday(3)] = []
    day4: Annotated[list[LocalRange], _weekday(4)] = []
    day5: Annotated[list[LocalRange], _weekday(5)] = []
    day6: Annotated[list[LocalRange], _weekday(6)] = []

    def weekly(self) -> dict[int, list[LocalRange]]:
        days = (self.day0, self.day1, self.day2, self.day3, self.day4, self.day5, self.day6)
        return {weekday: ranges for weekday, ranges in enumerate(days) if ranges}


class DateOverrideForm(ConsoleForm):
    day: Day
    kind: Literal["closed", "open"] = "closed"
    hours: Annotated[list[LocalRange], reads(parse_ranges, field="hours")] = []

    @model_validator(mode="before")
    @classmethod
    def _hours_only_when_open(cls, data: Any) -> Any:
        # Hours left in the field of a closed day are ignored rather than refused.
        if isinstance(data, Mapping) and data.get("kind") != "open":
            return {**data, "hours": ""}
        return data

    @model_validator(mode="after")
    def _open_needs_hours(self) -> DateOverrideForm:
        if self.kind == "open" and not self.hours:
            raise InvalidInput("hours: give the hours the day opens, or choose closed", field="hours")
        return self


class ClearOverrideForm(ConsoleForm):
    day: Day


# --- CRM -------------------------------------------------------------------------------------------


class AgentForm(ConsoleForm):
    name: Name = ""
    direction: Annotated[
        AgentDirection, one_of(AgentDirection, "direction: inbound or outbound", field="direction")
    ]
    phone_number: Blank[Phone] = None


class AgentUpdateForm(AgentForm):
    active: Checkbox = False


CampaignStatusField = Annotated[
    CampaignStatus, one_of(CampaignStatus, "status: choose one of the listed statuses", field="status")
]


class CampaignForm(ConsoleForm):
    name: Name = ""
    agent_id: Annotated[uuid.UUID | None, reads(parse_id, field="agent", optional=True)] = None
    target_country: Blank[CountryCode] = None
    max_attempts: Annotated[int, reads(parse_whole_number, field="max_attempts")] = 3
    status: CampaignStatusField = CampaignStatus.active


class CampaignStatusForm(ConsoleForm):
    status: CampaignStatusField


class ContactForm(ConsoleForm):
    name: Name = ""
    phone: Phone = ""
    interest: Interest = ""
    city: City = ""
    country: Blank[CountryCode] = None
    email: Blank[Email] = None
    language: Blank[Language] = None
    notes: Blank[Notes] = None


class AttemptForm(ConsoleForm):
    outcome: Annotated[
        AttemptOutcome, one_of(AttemptOutcome, "outcome: choose how the call ended", field="outcome")
    ]
    callback_at: Annotated[
        datetime | None, reads(parse_local_datetime, field="callback_at", optional=True)
    ] = None
    notes: Blank[Notes] = None

    @model_validator(mode="before")
    @classmethod
    def _callback_time_only_for_a_callback(cls, data: Any) -> Any:
        # A callback time only means something with a callback outcome; a value left in the field
        # otherwise is ignored rather than refused.
        if isinstance(data, Mapping) and data.get("outcome") != AttemptOutcome.callback_requested:
            return {**data, "callback_at": ""}
        return data
