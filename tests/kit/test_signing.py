from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from clinicore.kit.signing import generate_secret, sign, webhook_headers
from tests.support import remember_secret


def now_timestamp() -> int:
    return int(datetime.now(UTC).timestamp())


class TestSecrets:
    def test_a_secret_is_whsec_and_base64_of_32_random_bytes(self) -> None:
        secret = remember_secret(generate_secret())
        assert secret.startswith("whsec_")
        assert len(base64.b64decode(secret.removeprefix("whsec_"), validate=True)) == 32
        assert remember_secret(generate_secret()) != secret


class TestSignatures:
    @given(body=st.text(max_size=300), msg_id=st.from_regex(r"evt_[0-9A-Z]{26}", fullmatch=True))
    def test_what_we_sign_verifies_with_the_standardwebhooks_library(self, body: str, msg_id: str) -> None:
        secret = generate_secret()
        timestamp = now_timestamp()
        headers = webhook_headers([secret], msg_id=msg_id, timestamp=timestamp, body=body.encode())
        assert headers["webhook-id"] == msg_id
        assert headers["webhook-timestamp"] == str(timestamp)
        Webhook(secret).verify(body.encode(), headers, json_parse=False)

    def test_our_signature_is_the_librarys_signature(self) -> None:
        secret = remember_secret(generate_secret())
        moment = datetime.now(UTC).replace(microsecond=0)
        body = '{"id":"evt_1","data":{"name":"Zoë"}}'
        ours = sign(secret, msg_id="evt_1", timestamp=int(moment.timestamp()), body=body.encode())
        assert ours == Webhook(secret).sign("evt_1", moment, body)

    def test_during_rotation_either_secret_verifies(self) -> None:
        old, new = remember_secret(generate_secret()), remember_secret(generate_secret())
        headers = webhook_headers([new, old], msg_id="evt_2", timestamp=now_timestamp(), body=b"{}")
        assert len(headers["webhook-signature"].split(" ")) == 2
        for secret in (old, new):
            Webhook(secret).verify(b"{}", headers, json_parse=False)

    def test_a_changed_body_or_id_does_not_verify(self) -> None:
        secret = remember_secret(generate_secret())
        headers = webhook_headers([secret], msg_id="evt_3", timestamp=now_timestamp(), body=b'{"amount":1}')
        with pytest.raises(WebhookVerificationError):
            Webhook(secret).verify(b'{"amount":2}', headers)
        with pytest.raises(WebhookVerificationError):
            Webhook(secret).verify(b'{"amount":1}', {**headers, "webhook-id": "evt_4"})
        with pytest.raises(WebhookVerificationError):
            Webhook(remember_secret(generate_secret())).verify(b'{"amount":1}', headers)

    def test_signing_needs_a_secret(self) -> None:
        with pytest.raises(ValueError, match="at least one secret"):
            webhook_headers([], msg_id="evt_5", timestamp=now_timestamp(), body=b"{}")
