"""Request bodies are capped before any route or authentication reads them: an announced body over the
limit is refused at once without being read, a chunked one as soon as it passes the limit, each in the
envelope of the surface it was sent to, and the server's memory does not grow with what was sent."""

from __future__ import annotations

import json
import select
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from clinicore.app import body_limit_for
from clinicore.config import Settings
from tests.conftest import POSTGRES_URL
from tests.support import ServerProcess, clinicore_env

MB = 1024 * 1024


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, database_url: str) -> Iterator[ServerProcess]:
    env = clinicore_env(tmp_path_factory.mktemp("body-limit"), database_url if POSTGRES_URL else None)
    process = ServerProcess(env)
    try:
        process.wait_ready()
        yield process
    finally:
        process.stop()


def _connect(server: ServerProcess) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    sock.settimeout(10)
    return sock


def _read_response(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {
        name.strip().lower(): value.strip() for name, _, value in (line.partition(":") for line in lines[1:])
    }
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return status, headers, body


def _announce(
    server: ServerProcess, path: str, length: int, content_type: str = "application/json"
) -> tuple[int, dict[str, str], bytes, float]:
    """Announce a body of ``length`` bytes, send none of it, and time the answer."""
    with _connect(server) as sock:
        started = time.monotonic()
        sock.sendall(
            (
                f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {content_type}\r\n"
                f"Content-Length: {length}\r\n\r\n"
            ).encode()
        )
        status, headers, body = _read_response(sock)
        return status, headers, body, time.monotonic() - started


def _send_chunked(
    server: ServerProcess, path: str, total: int, chunk_size: int = 64 * 1024
) -> tuple[int, dict[str, str], bytes, int]:
    """Send a chunked body of up to ``total`` bytes; stop when the server answers. Returns how much of it
    was sent before the answer."""
    with _connect(server) as sock:
        sock.sendall(
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            "Transfer-Encoding: chunked\r\n\r\n".encode()
        )
        sent = 0
        chunk = b"[" + b" " * (chunk_size - 1)
        try:
            while sent < total:
                sock.sendall(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                sent += len(chunk)
                chunk = b" " * chunk_size
                readable, _, _ = select.select([sock], [], [], 0)
                if readable:
                    break  # the server has answered: stop sending
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered and closed: what we wanted
        status, headers, body = _read_response(sock)
        return status, headers, body, sent


def _rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


class TestAnnouncedBodies:
    def test_a_200_mb_announcement_is_refused_at_once_in_the_qualiphy_envelope(
        self, server: ServerProcess
    ) -> None:
        status, headers, body, elapsed = _announce(server, "/qualiphy/api/exam_invite", 200 * MB)
        assert status == 413
        assert elapsed < 1.0
        assert headers.get("connection") == "close"
        answer = json.loads(body)
        assert answer["http_code"] == 413
        assert "larger than 1 MB" in json.dumps(answer)

    def test_intakeq_takes_64_kb_and_answers_in_its_own_envelope(self, server: ServerProcess) -> None:
        status, _headers, body, _elapsed = _announce(server, "/intakeq/api/v1/practitioners", 65 * 1024)
        assert status == 413
        assert json.loads(body) == {"Message": "the request body is larger than 64 KB"}

    def test_the_native_api_and_qualifybase_take_1_mb(self, server: ServerProcess) -> None:
        for path in ("/api/webhook-endpoints", "/qualifybase/api/v1/leads"):
            status, _headers, _body, elapsed = _announce(server, path, MB + 1)
            assert status == 413, path
            assert elapsed < 1.0

    def test_a_page_gets_a_page(self, server: ServerProcess) -> None:
        status, headers, body, _elapsed = _announce(
            server, "/login", 5 * MB, content_type="application/x-www-form-urlencoded"
        )
        assert status == 413
        assert headers["content-type"].startswith("text/html")
        assert b"larger than 1 MB" in body

    def test_an_upload_route_takes_the_upload_limit_and_no_more(self, server: ServerProcess) -> None:
        # 2 MB is over the JSON limit but within the upload limit: the route itself answers (no key: 401).
        files = {"file": ("id.pdf", b"%PDF-1.4\n" + b"0" * (2 * MB), "application/pdf")}
        answer = httpx.post(
            f"{server.base_url}/qualiphy/api/exam_attachment_upload",
            data={"api_key": "nope", "patient_exam_id": "1"},
            files=files,
            timeout=30,
        )
        assert answer.status_code != 413
        status, _headers, _body, elapsed = _announce(
            server,
            "/qualiphy/api/exam_attachment_upload",
            200 * MB,
            content_type="multipart/form-data; boundary=x",
        )
        assert status == 413
        assert elapsed < 1.0

    def test_a_body_within_the_limit_is_served(self, server: ServerProcess) -> None:
        answer = httpx.post(
            f"{server.base_url}/qualiphy/api/exam_list", json={"api_key": "x", "pad": "y" * 1000}
        )
        assert answer.status_code == 401


class TestChunkedBodies:
    def test_a_chunked_body_is_cut_off_once_it_passes_the_limit(self, server: ServerProcess) -> None:
        status, _headers, body, sent = _send_chunked(server, "/qualiphy/api/exam_invite", 50 * MB)
        assert status == 413
        assert "larger than 1 MB" in body.decode()
        assert (
            sent < 20 * MB
        )  # the server answered soon after the limit (under load: later), long before 50 MB

    def test_the_connection_is_usable_after_a_refusal_on_a_new_one(self, server: ServerProcess) -> None:
        _send_chunked(server, "/api/webhook-endpoints", 4 * MB)
        assert httpx.get(f"{server.base_url}/healthz").status_code == 200

    def test_a_burst_of_oversized_bodies_leaves_memory_where_it_was(self, server: ServerProcess) -> None:
        before = _rss_bytes(server.process.pid)
        for _ in range(8):
            status, _headers, _body, _sent = _send_chunked(server, "/qualifybase/api/v1/leads", 30 * MB)
            assert status == 413
            _announce(server, "/qualiphy/api/exam_invite", 300 * MB)
        after = _rss_bytes(server.process.pid)
        assert after - before < 40 * MB, (before, after)


class TestLimits:
    def test_each_path_has_its_limit(self) -> None:
        limit_for = body_limit_for(Settings(max_body_bytes=2 * MB, max_upload_bytes=5 * MB))
        assert limit_for("/api/webhook-endpoints") == 2 * MB
        assert limit_for("/qualiphy/api/exam_invite") == 2 * MB
        assert limit_for("/intakeq/api/v1/intakes/create") == 64 * 1024
        assert limit_for("/intakeq/api/partner/practice") == 64 * 1024
        assert limit_for("/qualiphy/api/exam_attachment_upload") == 5 * MB + 64 * 1024
        assert limit_for("/meet/abc/attachments") == 5 * MB + 64 * 1024
        assert limit_for("/meet/abc/attachments/extra") == 2 * MB
        assert limit_for("/intake/abc/submit") == 5 * MB + 512 * 1024
