from __future__ import annotations

import pytest
from cryptography.exceptions import InvalidTag

from clinicore.core.models import ApiKeyKind
from clinicore.core.tenancy.keys import KEY_FORMATS
from clinicore.kit.crypto import SecretBox, hash_password, verify_password


def test_secret_box_round_trips_and_never_stores_the_plain_text() -> None:
    box = SecretBox("k" * 40)
    stored = box.encrypt("04bcb1c55cd8c73b3796f932a13ee89471af838f")
    assert "04bcb1c5" not in stored
    assert box.decrypt(stored) == "04bcb1c55cd8c73b3796f932a13ee89471af838f"
    assert box.encrypt("same") != box.encrypt("same")  # a fresh nonce each time


def test_secret_box_refuses_another_secret_key_and_tampering() -> None:
    stored = SecretBox("k" * 40).encrypt("value")
    with pytest.raises(InvalidTag):
        SecretBox("x" * 40).decrypt(stored)
    tampered = stored[:-4] + ("AAAA" if not stored.endswith("AAAA") else "BBBB")
    with pytest.raises((InvalidTag, ValueError)):
        SecretBox("k" * 40).decrypt(tampered)


def test_passwords_are_argon2id() -> None:
    hashed = hash_password("correct horse")
    assert hashed.startswith("$argon2id$")
    assert verify_password(hashed, "correct horse")
    assert not verify_password(hashed, "wrong horse")


@pytest.mark.parametrize("kind", list(ApiKeyKind))
def test_every_key_format_recognises_its_own_keys_and_rejects_others(kind: ApiKeyKind) -> None:
    key_format = KEY_FORMATS[kind]
    raw = key_format.generate()
    prefix = key_format.lookup_prefix(raw)
    assert prefix is not None and raw.startswith(prefix) and len(prefix) < len(raw) // 2
    assert key_format.lookup_prefix(raw + "x") is None
    assert key_format.lookup_prefix(raw[:-1] + "!") is None
    assert key_format.lookup_prefix("") is None
