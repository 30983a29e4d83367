"""Documents attached to a patient exam: the patient's ID and the exam's named attachments ("Lab",
"Picture of hair loss area"), which the provider sees during the screening.

A file is accepted only as JPEG, PNG, HEIC or PDF, judged from its first bytes (never from the name or
the content type the client claims), and only up to the configured size (10 MB). Its bytes go to the
file storage under the clinic's id and a random name; a ``StoredFile`` row keeps what we know about it
and an ``ExamAttachment`` row ties it to the patient exam with its label.

Required attachments of a patient exam: ``ID``, plus the exam's ``attachments`` when the exam requires
them; ``missing_attachments`` compares them with the labels uploaded so far.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import unicodedata
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import filetype  # type: ignore[import-untyped]
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clinicore.core.models import Exam, ExamAttachment, PatientExam, PatientExamStatus, StoredFile
from clinicore.core.telehealth import repository
from clinicore.core.telehealth.answers import find_patient_exam
from clinicore.kit.clock import Clock, system_clock
from clinicore.kit.errors import Conflict, InvalidInput, NotFound
from clinicore.kit.storage import FileStorage

ID_LABEL = "ID"
# Sniffed type -> extension of the stored file.
ACCEPTED_TYPES = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/heic": "heic",
    "application/pdf": "pdf",
}
ACCEPTED_NAMES = "JPEG, PNG, HEIC or PDF"
READ_CHUNK_BYTES = 64 * 1024
SNIFF_BYTES = 8192  # filetype reads at most this many leading bytes
_UNSAFE_NAME_CHARACTERS = re.compile(r"[^A-Za-z0-9 ._()+-]")


@dataclass(frozen=True, slots=True)
class AttachmentUpload:
    """The result of an upload: the rows made and where the patient exam now stands."""

    attachment: ExamAttachment
    file: StoredFile
    patient_exam: PatientExam
    required: Sequence[str]
    missing: Sequence[str]


def describe_size(size_bytes: int) -> str:
    """``10 MB`` for 10,485,760 bytes; exact byte counts otherwise."""
    megabytes, rest = divmod(size_bytes, 1024 * 1024)
    return f"{megabytes} MB" if megabytes and not rest else f"{size_bytes} bytes"


def too_large(max_bytes: int) -> InvalidInput:
    return InvalidInput(
        f"file: larger than the {describe_size(max_bytes)} limit ({max_bytes} bytes)", field="file"
    )


async def read_limited(read: Callable[[int], Awaitable[bytes]], *, max_bytes: int) -> bytes:
    """Read an upload chunk by chunk and stop as soon as it passes ``max_bytes``: never holds more
    than the limit plus one chunk, whatever the client sends."""
    chunks: list[bytes] = []
    total = 0
    while chunk := await read(READ_CHUNK_BYTES):
        total += len(chunk)
        if total > max_bytes:
            raise too_large(max_bytes)
        chunks.append(chunk)
    return b"".join(chunks)


def sniff_content_type(data: bytes) -> str | None:
    """The accepted type the bytes are (``image/png`` ...), or None."""
    kind = filetype.guess(data[:SNIFF_BYTES])
    mime = getattr(kind, "mime", None)
    return mime if mime in ACCEPTED_TYPES else None


def sanitise_file_name(name: str | None) -> str | None:
    """The client's file name reduced to its last path part in plain characters (at most 255), or None."""
    if not name:
        return None
    base = re.split(r"[\\/]", name)[-1]
    plain = unicodedata.normalize("NFKD", base).encode("ascii", "ignore").decode()
    cleaned = _UNSAFE_NAME_CHARACTERS.sub("_", plain).strip(" .")
    return cleaned[:255] or None


def required_attachments(exam: Exam) -> list[str]:
    """``ID`` always; the exam's named attachments too when it requires them."""
    labels = [ID_LABEL]
    if exam.attachments_required:
        labels += [name for name in exam.attachments if name.casefold() != ID_LABEL.casefold()]
    return labels


def allowed_labels(exam: Exam) -> list[str]:
    return [ID_LABEL, *(name for name in exam.attachments if name.casefold() != ID_LABEL.casefold())]


def _canonical_label(exam: Exam, label: str | None) -> str:
    wanted = (label or ID_LABEL).strip().casefold() or ID_LABEL.casefold()
    for name in allowed_labels(exam):
        if name.casefold() == wanted:
            return name
    allowed = ", ".join(f'"{name}"' for name in allowed_labels(exam))
    raise InvalidInput(
        f"label: {label!r} is not an attachment of exam {exam.id} (allowed: {allowed})", field="label"
    )


async def _uploaded_labels(session: AsyncSession, *, patient_exam_id: int) -> set[str]:
    result = await session.scalars(
        select(ExamAttachment.label).where(ExamAttachment.patient_exam_id == patient_exam_id).distinct()
    )
    return {label.casefold() for label in result}


async def _missing_for(session: AsyncSession, patient_exam: PatientExam, exam: Exam) -> list[str]:
    uploaded = await _uploaded_labels(session, patient_exam_id=patient_exam.id)
    return [label for label in required_attachments(exam) if label.casefold() not in uploaded]


async def missing_attachments(session: AsyncSession, *, patient_exam_id: int) -> list[str]:
    """The required attachments of a patient exam not uploaded yet, in the order they are asked for.
    For callers that already hold the patient exam (not scoped to a clinic)."""
    patient_exam = await session.get(PatientExam, patient_exam_id)
    if patient_exam is None:
        raise NotFound(f"patient_exam_id: no patient exam {patient_exam_id}", field="patient_exam_id")
    exam = await session.get(Exam, patient_exam.exam_id)
    assert exam is not None
    return await _missing_for(session, patient_exam, exam)


async def attachments_of(
    session: AsyncSession, *, patient_exam_id: int
) -> Sequence[tuple[ExamAttachment, StoredFile]]:
    """A patient exam's attachments with their files, oldest first (for the provider and the PDF)."""
    return await repository.attachments_of(session, patient_exam_id=patient_exam_id)


async def upload_attachment(
    session: AsyncSession,
    *,
    clinic_id: uuid.UUID,
    patient_exam_id: int,
    label: str | None,
    data: bytes,
    original_name: str | None,
    storage: FileStorage,
    max_bytes: int,
    clock: Clock = system_clock,
) -> AttachmentUpload:
    """Attach a document to one of the clinic's patient exams (see the module docstring).

    The bytes are written to storage before the transaction commits; a rolled-back upload leaves an
    unreferenced file behind, never a row without its file."""
    patient_exam = await find_patient_exam(session, clinic_id=clinic_id, patient_exam_id=patient_exam_id)
    if patient_exam.status == PatientExamStatus.cancelled:
        raise Conflict(
            f"patient_exam_id: patient exam {patient_exam.id} is cancelled; it takes no attachments",
            field="patient_exam_id",
        )
    exam = await session.get(Exam, patient_exam.exam_id)
    assert exam is not None
    canonical = _canonical_label(exam, label)
    if not data:
        raise InvalidInput("file: the file is empty", field="file")
    if len(data) > max_bytes:
        raise too_large(max_bytes)
    content_type = sniff_content_type(data)
    if content_type is None:
        raise InvalidInput(
            f"file: must be a {ACCEPTED_NAMES} file (judged from its content, not its name)", field="file"
        )

    now = clock.now()
    key = f"{clinic_id}/attachments/{secrets.token_hex(16)}.{ACCEPTED_TYPES[content_type]}"
    await storage.put(key, data)
    stored = StoredFile(
        clinic_id=clinic_id,
        storage_key=key,
        content_type=content_type,
        size_bytes=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        original_name=sanitise_file_name(original_name),
        created_at=now,
    )
    session.add(stored)
    await session.flush()
    attachment = ExamAttachment(
        clinic_id=clinic_id,
        patient_exam_id=patient_exam.id,
        label=canonical,
        file_id=stored.id,
        created_at=now,
    )
    session.add(attachment)
    await session.flush()
    return AttachmentUpload(
        attachment=attachment,
        file=stored,
        patient_exam=patient_exam,
        required=required_attachments(exam),
        missing=await _missing_for(session, patient_exam, exam),
    )
