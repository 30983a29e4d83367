"""Reading Qualiphy request bodies the way integrators send them.

Ids arrive as numbers or numeric strings; lists (``exams``, ``exam_ids``, ``pharmacy_ids``) as arrays
or a bare value; unknown fields are ignored. A body that does not fit gives a 400 naming the field, and
so does text that cannot be stored (a NUL character, a lone surrogate), whether the fields came as JSON or
as a form.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, ValidationError

from clinicore.kit.errors import InvalidInput
from clinicore.surfaces.subapp import json_texts, refuse_unstorable

M = TypeVar("M", bound=BaseModel)


LARGEST_ID = 2**31 - 1  # ids are 32-bit integer columns: nothing stored has a larger one
MOST_IDS = 1000  # one list of ids (``pharmacy_ids``, ``exam_ids``)
# Free text a patient writes (an answer) and the integrator's ``additional_data``: both are stored, echoed
# into every webhook and printed on the PDF, so each is bounded (docs/compat/qualiphy.md, "Size limits").
MOST_ANSWER_CHARACTERS = 10_000
MOST_ADDITIONAL_DATA_BYTES = 64 * 1024


def as_int(value: Any) -> int:
    """An id: a whole number from 0 to ``LARGEST_ID``, sent as a number or a numeric string."""
    number: int | None = None
    if isinstance(value, bool):
        number = None
    elif isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and value.strip().lstrip("-").isdigit() and len(value.strip()) <= 20:
        number = int(value.strip())
    if number is None:
        raise ValueError("must be a number")
    if not 0 <= number <= LARGEST_ID:
        raise ValueError(f"must be a number from 0 to {LARGEST_ID}")
    return number


def _as_int_list(value: Any) -> Any:
    if value is None:
        return value
    items = value if isinstance(value, list) else [value]
    if isinstance(value, str) and "," in value:
        items = [part for part in value.split(",") if part.strip()]
    if len(items) > MOST_IDS:
        raise ValueError(f"at most {MOST_IDS} ids")
    return [as_int(item) for item in items]


def _blank_to_none(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def _bounded_answer(value: str | None) -> str | None:
    if value is not None and len(value) > MOST_ANSWER_CHARACTERS:
        raise ValueError(f"must be at most {MOST_ANSWER_CHARACTERS} characters")
    return value


def _bounded_additional_data(value: Any) -> Any:
    """Measured as the JSON it is stored and echoed as (UTF-8 bytes), whether a string or an object."""
    if value is not None and len(json.dumps(value, ensure_ascii=False).encode()) > MOST_ADDITIONAL_DATA_BYTES:
        raise ValueError(f"must be at most {MOST_ADDITIONAL_DATA_BYTES // 1024} KB")
    return value


IntId = Annotated[int, BeforeValidator(as_int)]
IntList = Annotated[list[int], BeforeValidator(_as_int_list)]
Text = Annotated[str | None, BeforeValidator(_blank_to_none)]
AnswerText = Annotated[str | None, BeforeValidator(_blank_to_none), AfterValidator(_bounded_answer)]
AdditionalData = Annotated[Any, AfterValidator(_bounded_additional_data)]


class Body(BaseModel):
    """Base of every Qualiphy request model: unknown fields ignored, ``api_key`` read by auth."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


def describe(error: ValidationError) -> str:
    first = error.errors()[0]
    location = ".".join(str(part) for part in first.get("loc", ()))
    kind = first.get("type", "")
    if kind == "missing":
        return f"{location} is required"
    message = str(first.get("msg", "is invalid")).removeprefix("Value error, ")
    return f"{location}: {message}" if location else message


def parse(model: type[M], fields: dict[str, Any]) -> M:
    refuse_unstorable(json_texts(fields))
    try:
        return model.model_validate(fields)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = str(first["loc"][0]) if first.get("loc") else None
        raise InvalidInput(describe(exc), field=field) from None
