"""A real SMTP server for tests (aiosmtpd on a loopback port) that keeps what it receives."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

from tests.support import free_port


@dataclass(frozen=True)
class ReceivedEmail:
    recipients: list[str]
    message: EmailMessage

    @property
    def body(self) -> str:
        return str(self.message.get_content())


class SmtpSink:
    def __init__(self) -> None:
        self.port = free_port()
        self.received: list[ReceivedEmail] = []

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.received.append(ReceivedEmail(list(envelope.rcpt_tos), message))
        return "250 OK"

    def to(self, address: str) -> list[ReceivedEmail]:
        return [email for email in self.received if address in email.recipients]


@contextmanager
def running_smtp_sink() -> Iterator[SmtpSink]:
    sink = SmtpSink()
    controller = Controller(sink, hostname="127.0.0.1", port=sink.port)
    controller.start()
    try:
        yield sink
    finally:
        controller.stop()
