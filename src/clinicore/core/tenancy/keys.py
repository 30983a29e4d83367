"""Key formats: what each kind looks like, how it is displayed, and whether it can be shown again."""

from __future__ import annotations

import string
from dataclasses import dataclass

from clinicore.core.models import ApiKeyKind
from clinicore.kit.crypto import random_token

_BASE62 = string.ascii_letters + string.digits
_HEX = "0123456789abcdef"
LOOKUP_PREFIX_LENGTH = 8  # characters of the random part kept in clear to find the row


@dataclass(frozen=True, slots=True)
class KeyFormat:
    literal: str  # fixed start of every key of the kind ("qbk_live_", "ck_", or "")
    length: int  # random characters after the literal
    alphabet: str
    retrievable: bool  # stored encrypted (portal shows it again) rather than only hashed
    label: str

    def generate(self) -> str:
        return self.literal + random_token(self.length, self.alphabet)

    def lookup_prefix(self, raw: str) -> str | None:
        """The non-secret prefix of ``raw``, or None when ``raw`` cannot be a key of this kind."""
        if not raw.startswith(self.literal) or len(raw) != len(self.literal) + self.length:
            return None
        if any(char not in self.alphabet for char in raw[len(self.literal) :]):
            return None
        return raw[: len(self.literal) + LOOKUP_PREFIX_LENGTH]


KEY_FORMATS: dict[ApiKeyKind, KeyFormat] = {
    ApiKeyKind.qualifybase: KeyFormat(
        "qbk_live_", 40, _BASE62, retrievable=False, label="QualifyBase API key"
    ),
    ApiKeyKind.qualiphy: KeyFormat("", 40, _HEX, retrievable=True, label="Qualiphy api_key"),
    ApiKeyKind.intakeq_practice: KeyFormat("", 40, _HEX, retrievable=True, label="IntakeQ practice key"),
    ApiKeyKind.intakeq_partner: KeyFormat("", 48, _HEX, retrievable=False, label="IntakeQ partner key"),
    ApiKeyKind.native: KeyFormat("ck_", 40, _BASE62, retrievable=False, label="Native API key"),
}

# One active key of these kinds per clinic: creating one rotates the previous.
SINGLE_ACTIVE_KINDS = frozenset({ApiKeyKind.qualiphy, ApiKeyKind.intakeq_practice})
