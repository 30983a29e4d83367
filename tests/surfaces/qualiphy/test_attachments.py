"""POST /qualiphy/api/exam_attachment_upload: a JPEG, PNG, HEIC or PDF of at most 10 MB, judged from
its bytes, stored through the file storage and tracked against the patient exam's required attachments."""

from __future__ import annotations

import hashlib
import struct
import uuid
import zlib
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from clinicore.core.models import ExamAttachment, StoredFile
from clinicore.core.telehealth import attachments as attachments_service
from tests.surfaces.qualiphy.conftest import QualiphyClinic
from tests.surfaces.qualiphy.test_submit_answers import cancel, error_of, invite

MB = 1024 * 1024

# --- tiny valid files ---------------------------------------------------------------------------------


def png_bytes() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)  # 1x1, 8-bit RGB
    pixels = zlib.compress(b"\x00\xff\x00\x00")  # filter byte + one red pixel
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def jpeg_bytes() -> bytes:
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    return b"\xff\xd8" + app0 + b"\xff\xd9"


def pdf_bytes() -> bytes:
    return (
        b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
        b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n"
        b"trailer << /Root 1 0 R >>\n%%EOF\n"
    )


def heic_bytes() -> bytes:
    ftyp = struct.pack(">I", 24) + b"ftyp" + b"heic" + struct.pack(">I", 0) + b"mif1" + b"heic"
    return ftyp + struct.pack(">I", 8) + b"mdat"


async def upload(
    qp: QualiphyClinic,
    patient_exam_id: int | str,
    content: bytes,
    *,
    name: str = "id.png",
    claimed_type: str = "image/png",
    label: str | None = None,
    field: str = "file",
) -> httpx.Response:
    data: dict[str, Any] = {"api_key": qp.api_key, "patient_exam_id": str(patient_exam_id)}
    if label is not None:
        data["label"] = label
    return await qp.client.post(
        "/exam_attachment_upload", data=data, files={field: (name, content, claimed_type)}
    )


async def stored(qp: QualiphyClinic, attachment_id: str) -> tuple[ExamAttachment, StoredFile]:
    async with qp.runtime.sessions() as session:
        attachment = await session.get(ExamAttachment, uuid.UUID(attachment_id))
        assert attachment is not None
        file = await session.get(StoredFile, attachment.file_id)
        assert file is not None
    return attachment, file


# --- accepted files -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "sniffed", "extension"),
    [
        (png_bytes(), "image/png", "png"),
        (jpeg_bytes(), "image/jpeg", "jpg"),
        (pdf_bytes(), "application/pdf", "pdf"),
        (heic_bytes(), "image/heic", "heic"),
    ],
)
async def test_jpeg_png_heic_and_pdf_are_stored_and_read_back(
    qp: QualiphyClinic, content: bytes, sniffed: str, extension: str
) -> None:
    invited = await invite(qp)
    # The client's word on the type is ignored: everything claims to be an octet stream here.
    response = await upload(
        qp, invited.patient_exam_id, content, name="scan", claimed_type="application/octet-stream"
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body == {
        "http_code": 200,
        "message": "Attachment uploaded",
        "attachment_id": body["attachment_id"],
        "patient_exam_id": invited.patient_exam_id,
        "label": "ID",
        "content_type": sniffed,
        "size": len(content),
        "required_attachments": ["ID"],
        "missing_attachments": [],
    }
    attachment, file = await stored(qp, body["attachment_id"])
    assert attachment.patient_exam_id == invited.patient_exam_id and attachment.label == "ID"
    assert attachment.clinic_id == file.clinic_id == qp.arranged.clinic.id
    assert file.content_type == sniffed and file.size_bytes == len(content)
    assert file.sha256 == hashlib.sha256(content).hexdigest()
    assert file.storage_key.startswith(f"{qp.arranged.clinic.id}/attachments/")
    assert file.storage_key.endswith(f".{extension}")
    assert await qp.runtime.storage.get(file.storage_key) == content


async def test_the_original_name_is_kept_without_its_path_or_odd_characters(qp: QualiphyClinic) -> None:
    invited = await invite(qp)
    response = await upload(
        qp, invited.patient_exam_id, png_bytes(), name="C:\\fakepath\\../Mé ID <front>.png"
    )
    _, file = await stored(qp, response.json()["attachment_id"])
    assert file.original_name == "Me ID _front_.png"
    assert ".." not in file.storage_key and "front" not in file.storage_key


async def test_a_file_of_exactly_the_limit_is_accepted(qp: QualiphyClinic) -> None:
    invited = await invite(qp)
    content = png_bytes() + b"\x00" * (10 * MB - len(png_bytes()))
    response = await upload(qp, invited.patient_exam_id, content)
    assert response.status_code == 200, response.text
    assert response.json()["size"] == 10 * MB


# --- refused files ------------------------------------------------------------------------------------


async def test_a_png_that_is_really_text_is_refused(qp: QualiphyClinic) -> None:
    invited = await invite(qp)
    response = await upload(
        qp, invited.patient_exam_id, b"just some text, not an image\n" * 10, name="id.png"
    )
    assert (
        error_of(response)
        == "file: must be a JPEG, PNG, HEIC or PDF file (judged from its content, not its name)"
    )
    gif = b"GIF89a\x01\x00\x01\x00\x00\x00\x00;"
    assert error_of(await upload(qp, invited.patient_exam_id, gif, name="id.png")).startswith(
        "file: must be a JPEG"
    )


async def test_one_byte_over_10_mb_is_refused(qp: QualiphyClinic) -> None:
    invited = await invite(qp)
    content = png_bytes() + b"\x00" * (10 * MB + 1 - len(png_bytes()))
    response = await upload(qp, invited.patient_exam_id, content)
    assert error_of(response) == "file: larger than the 10 MB limit (10485760 bytes)"
    await assert_nothing_attached(qp, invited.patient_exam_id)


async def test_an_empty_file_is_refused(qp: QualiphyClinic) -> None:
    invited = await invite(qp)
    assert error_of(await upload(qp, invited.patient_exam_id, b"")) == "file: the file is empty"


async def test_the_file_is_required(qp: QualiphyClinic) -> None:
    invited = await invite(qp)
    no_file = await qp.client.post(
        "/exam_attachment_upload",
        data={"api_key": qp.api_key, "patient_exam_id": str(invited.patient_exam_id)},
    )
    assert error_of(no_file) == "file is required (a multipart/form-data part named `file`)"
    as_json = await qp.post("exam_attachment_upload", patient_exam_id=invited.patient_exam_id)
    assert error_of(as_json) == "file is required (a multipart/form-data part named `file`)"


async def test_a_body_declared_far_beyond_the_limit_is_refused_before_it_is_read(qp: QualiphyClinic) -> None:
    sent: list[int] = []

    async def body() -> AsyncIterator[bytes]:
        for _ in range(40):
            sent.append(MB)
            yield b"\x00" * MB

    response = await qp.client.post(
        "/exam_attachment_upload",
        content=body(),
        headers={"content-type": "multipart/form-data; boundary=xyz", "content-length": str(40 * MB)},
    )
    assert response.status_code == 413  # the body cap of every route, before the route runs
    assert response.json() == {"http_code": 413, "error_message": "the request body is larger than 10304 KB"}
    assert sent == []


async def test_a_body_without_a_length_stops_being_read_past_the_limit(qp: QualiphyClinic) -> None:
    invited = await invite(qp)
    sent: list[int] = []
    boundary = "clinicoreboundary"

    async def body() -> AsyncIterator[bytes]:
        yield (
            f'--{boundary}\r\nContent-Disposition: form-data; name="api_key"\r\n\r\n{qp.api_key}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="patient_exam_id"\r\n\r\n'
            f"{invited.patient_exam_id}\r\n"
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="id.png"\r\n'
            "Content-Type: image/png\r\n\r\n"
        ).encode() + png_bytes()
        for _ in range(40):  # 40 MB that a careless server would read to the end
            sent.append(MB)
            yield b"\x00" * MB

    response = await qp.client.post(
        "/exam_attachment_upload",
        content=body(),
        headers={"content-type": f"multipart/form-data; boundary={boundary}"},
    )
    assert response.status_code == 413
    assert response.json()["error_message"] == "the request body is larger than 10304 KB"
    assert len(sent) <= 11
    await assert_nothing_attached(qp, invited.patient_exam_id)


async def assert_nothing_attached(qp: QualiphyClinic, patient_exam_id: int) -> None:
    async with qp.runtime.sessions() as session:
        assert await attachments_service.attachments_of(session, patient_exam_id=patient_exam_id) == []


# --- labels and required attachments --------------------------------------------------------------------


async def test_required_attachments_are_tracked_by_label(qp: QualiphyClinic) -> None:
    invited = await invite(qp, qp.catalog.hair)
    first = await upload(qp, invited.patient_exam_id, jpeg_bytes(), name="id.jpg")
    assert first.json()["required_attachments"] == ["ID", "Picture of hair loss area"]
    assert first.json()["missing_attachments"] == ["Picture of hair loss area"]
    async with qp.runtime.sessions() as session:
        missing = await attachments_service.missing_attachments(
            session, patient_exam_id=invited.patient_exam_id
        )
    assert missing == ["Picture of hair loss area"]

    qp.clock.advance(timedelta(minutes=1))
    second = await upload(
        qp, invited.patient_exam_id, heic_bytes(), name="scalp.heic", label="picture of hair loss AREA"
    )
    assert second.status_code == 200, second.text
    assert second.json()["label"] == "Picture of hair loss area"
    assert second.json()["missing_attachments"] == []
    async with qp.runtime.sessions() as session:
        assert (
            await attachments_service.missing_attachments(session, patient_exam_id=invited.patient_exam_id)
            == []
        )
        listed = await attachments_service.attachments_of(session, patient_exam_id=invited.patient_exam_id)
    assert [(attachment.label, file.content_type) for attachment, file in listed] == [
        ("ID", "image/jpeg"),
        ("Picture of hair loss area", "image/heic"),
    ]


async def test_before_any_upload_every_required_attachment_is_missing(qp: QualiphyClinic) -> None:
    hair, botox = await invite(qp, qp.catalog.hair), await invite(qp)
    async with qp.runtime.sessions() as session:
        assert await attachments_service.missing_attachments(
            session, patient_exam_id=hair.patient_exam_id
        ) == [
            "ID",
            "Picture of hair loss area",
        ]
        assert await attachments_service.missing_attachments(
            session, patient_exam_id=botox.patient_exam_id
        ) == ["ID"]


async def test_an_unknown_label_is_refused_with_the_allowed_ones(qp: QualiphyClinic) -> None:
    invited = await invite(qp, qp.catalog.hair)
    response = await upload(qp, invited.patient_exam_id, png_bytes(), label="Lab")
    assert error_of(response) == (
        f"label: 'Lab' is not an attachment of exam {qp.catalog.hair.id} "
        '(allowed: "ID", "Picture of hair loss area")'
    )


async def test_the_file_may_come_as_attachment_and_the_label_as_attachment_name(qp: QualiphyClinic) -> None:
    invited = await invite(qp, qp.catalog.hair)
    response = await qp.client.post(
        "/exam_attachment_upload/",
        data={
            "api_key": qp.api_key,
            "patient_exam_id": str(invited.patient_exam_id),
            "attachment_name": "Picture of hair loss area",
        },
        files={"attachment": ("scalp.pdf", pdf_bytes(), "application/pdf")},
    )
    assert response.status_code == 200, response.text
    assert response.json()["label"] == "Picture of hair loss area"


# --- whose exam -----------------------------------------------------------------------------------------


async def test_a_cancelled_exam_takes_no_attachments(qp: QualiphyClinic) -> None:
    invited = await invite(qp)
    await cancel(qp, invited.patient_exam_id)
    response = await upload(qp, invited.patient_exam_id, png_bytes())
    assert (
        error_of(response)
        == f"patient_exam_id: patient exam {invited.patient_exam_id} is cancelled; it takes no attachments"
    )


async def test_another_clinics_exam_answers_as_a_missing_one(
    qp: QualiphyClinic, other_qp: QualiphyClinic
) -> None:
    theirs = await invite(other_qp)
    response = await upload(qp, theirs.patient_exam_id, png_bytes())
    assert error_of(response) == "patient_exam_id: no such patient exam"
    assert error_of(await upload(qp, 999_999_999, png_bytes())) == "patient_exam_id: no such patient exam"
    await assert_nothing_attached(other_qp, theirs.patient_exam_id)


async def test_the_api_key_comes_in_the_form(qp: QualiphyClinic) -> None:
    invited = await invite(qp)
    response = await qp.client.post(
        "/exam_attachment_upload",
        data={"patient_exam_id": str(invited.patient_exam_id)},
        files={"file": ("id.png", png_bytes(), "image/png")},
    )
    assert response.status_code == 401
    assert response.json() == {"http_code": 401, "error_message": "api_key is required"}
    bearer = await qp.client.post(
        "/exam_attachment_upload",
        data={"patient_exam_id": str(invited.patient_exam_id)},
        files={"file": ("id.png", png_bytes(), "image/png")},
        headers={"authorization": f"Bearer {qp.api_key}"},
    )
    assert bearer.status_code == 200, bearer.text
