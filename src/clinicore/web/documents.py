"""Signed document links: ``GET /documents/consultations/{patient_exam_id}.pdf?expires=&signature=``.

No sign-in: the signature (``runtime.links``) is the credential, and it names the exam and the expiry
(24 hours after the webhook that carried it). A wrong or missing signature answers 404, as for a
document that does not exist; a genuine link past its expiry answers 403, as the signed-URL store
Qualiphy's ``exam_url`` points at does. Neither the PDF nor the signature is ever logged.
"""

from __future__ import annotations

import hmac

from fastapi import APIRouter
from fastapi.responses import PlainTextResponse, Response

from clinicore.core.telehealth import documents
from clinicore.core.telehealth.snapshots import consultation_document_path
from clinicore.kit.errors import NotFound
from clinicore.requests import RuntimeDep, SessionDep

router = APIRouter(include_in_schema=False)

# PHI: never cached by a browser or a proxy, never indexed, never leaked through a Referer.
DOCUMENT_HEADERS = {
    "Cache-Control": "private, no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex",
}


def _plain(status: int, message: str) -> Response:
    return PlainTextResponse(message, status_code=status, headers=DOCUMENT_HEADERS)


@router.get("/documents/consultations/{patient_exam_id}.pdf")
async def consultation_document(
    patient_exam_id: int,
    session: SessionDep,
    runtime: RuntimeDep,
    expires: int | None = None,
    signature: str = "",
) -> Response:
    path = consultation_document_path(patient_exam_id)
    links = runtime.links
    if expires is None or not hmac.compare_digest(
        links.signature(path, expires).encode(), signature.encode()
    ):
        return _plain(404, "document not found")
    if not links.verify(path, signature=signature, expires=expires, now=runtime.clock.now()):
        return _plain(403, "this link has expired: ask for a new one")
    try:
        pdf = await documents.consultation_pdf(session, patient_exam_id=patient_exam_id)
    except NotFound:
        return _plain(404, "document not found")
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            **DOCUMENT_HEADERS,
            "Content-Disposition": f'inline; filename="consultation-{patient_exam_id}.pdf"',
        },
    )
