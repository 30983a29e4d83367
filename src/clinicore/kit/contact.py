"""Email addresses and phone numbers, read one way everywhere (``email-validator``, ``phonenumbers``).

- An email is stored as email-validator normalises it (the domain lower-cased, the local part kept) and
  compared by ``email_key`` (all lower-case): mailboxes are case-insensitive in practice.
- A phone is stored in E.164. A number written without a country code is read in ``region`` (the U.S.
  by default). ``valid=True`` asks for a number in service (campaign calls); otherwise a possible
  number is enough (vendors' sample numbers such as +1 555 … are possible, not valid).
"""

from __future__ import annotations

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from clinicore.kit.errors import InvalidInput

DEFAULT_REGION = "US"
MAX_EMAIL_LENGTH = 320


def normalise_email(value: str, *, field: str = "email") -> str:
    """The address as email-validator normalises it, or ``InvalidInput`` naming ``field``."""
    try:
        normalised = validate_email(value.strip(), check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise InvalidInput(f"{field}: {exc}", field=field) from None
    if len(normalised) > MAX_EMAIL_LENGTH:
        raise InvalidInput(f"{field}: at most {MAX_EMAIL_LENGTH} characters", field=field)
    return normalised


def email_key(email: str) -> str:
    """What two addresses are compared by."""
    return email.strip().lower()


def parse_phone(value: str, *, region: str | None = None) -> phonenumbers.PhoneNumber | None:
    try:
        return phonenumbers.parse(value.strip(), (region or DEFAULT_REGION).upper())
    except phonenumbers.NumberParseException:
        return None


def normalise_phone(
    value: str, *, field: str = "phone", region: str | None = None, valid: bool = False
) -> str:
    """E.164 (``+15552223232``), or ``InvalidInput`` naming ``field``."""
    number = parse_phone(value, region=region)
    if number is None or (not valid and not phonenumbers.is_possible_number(number)):
        raise InvalidInput(f"{field}: not a phone number (use +15552223232 or 1234567890)", field=field)
    if valid and not phonenumbers.is_valid_number(number):
        raise InvalidInput(f"{field}: not a valid phone number", field=field)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def phone_or_as_written(value: str | None, *, region: str | None = None) -> str | None:
    """E.164 for a valid number, else the text as written (trimmed); blank is None. For directories we
    import, where a number we cannot read is still worth showing."""
    raw = (value or "").strip()
    if not raw:
        return None
    number = parse_phone(raw, region=region)
    if number is None or not phonenumbers.is_valid_number(number):
        return raw
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
