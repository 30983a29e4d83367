"""Form templates: a partner's master forms and a clinic's practice forms.

- A template has one owner, a partner (a master form) or a clinic (a practice form); every function takes
  the owner, and another owner's template reads as missing.
- A definition is a name, a kind (``FormKind``), sections of questions in order, and consent documents.
  Everything is bounded (``LIMITS``): names and texts, sections, questions, choices, matrix rows and
  columns, consent documents and their HTML, and the number of templates an owner keeps. No text may
  hold a NUL character.
- A form holds at least one question or one consent document; a section at least one question.
- Choice questions need their choices (single choice two at least, multiple choice one at least: a lone
  checkbox such as "I agree"), a matrix its rows and at least two columns; choices, rows and columns are
  distinct (without case). Options given to a kind that has none are refused, never ignored.
- Consent documents are HTML, sanitised with ``nh3`` (ammonia) before they are stored: no scripts, no
  event handlers, no ``javascript:`` links, no images (they would load from another host when a patient
  opens the form); a document left empty by sanitising is refused.
- Changing the sections or the consent documents replaces them and bumps the revision.
- Archived templates stay listed (with their flag) and can be unarchived; an archived master form
  cannot be copied.
- Copying a master form into one of the partner's practices makes a new practice form with the same
  name, kind, sections and questions, and the consent documents only when asked.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import nh3
from sqlalchemy.ext.asyncio import AsyncSession

from clinicore.core.audit import service as audit_service
from clinicore.core.audit.service import Actor
from clinicore.core.forms import repository
from clinicore.core.forms.schemas import (
    ConsentDocumentDefinition,
    FormChanges,
    FormContents,
    FormDefinition,
    FormOwner,
    QuestionDefinition,
    SectionContents,
    SectionDefinition,
)
from clinicore.core.models import (
    FormConsentDocument,
    FormKind,
    FormQuestion,
    FormQuestionKind,
    FormSection,
    FormTemplate,
)
from clinicore.core.tenancy import practices
from clinicore.kit.clock import Clock, system_clock
from clinicore.kit.errors import InvalidInput, NotFound
from clinicore.kit.inputs import NOT_GIVEN

SUBJECT = "form"
MAX_NAME = 200
MAX_SECTION_TITLE = 200
MAX_SECTION_DESCRIPTION = 2000
MAX_QUESTION_TEXT = 1000
MAX_HELP_TEXT = 1000
MAX_OPTION_TEXT = 200
MAX_SECTIONS = 50
MAX_QUESTIONS = 300
MAX_CHOICES = 100
MAX_MATRIX_ROWS = 50
MAX_MATRIX_COLUMNS = 20
MAX_CONSENT_DOCUMENTS = 20
MAX_CONSENT_HTML = 200_000
MAX_FORMS_PER_OWNER = 1000
MAX_REFERENCE = 200

CHOICE_KINDS = {FormQuestionKind.single_choice: 2, FormQuestionKind.multiple_choice: 1}  # fewest choices
CONSENT_TAGS = nh3.ALLOWED_TAGS - {"img"}


# --- validation (pure) ----------------------------------------------------------------------------


def _refuse(message: str, field: str) -> InvalidInput:
    return InvalidInput(message, field=field, subject=SUBJECT)


def _text(
    value: str | None,
    field: str,
    *,
    longest: int,
    where: str = "",
    required: bool = True,
    label: str | None = None,
) -> str | None:
    """Stripped text, bounded, never a NUL; blank is None (refused when ``required``). Messages start
    with ``label``, by default where the field is (``sections.0.questions.2.text``)."""
    label = label or f"{where}{field}"
    if value is not None and not isinstance(value, str):
        raise _refuse(f"{label}: must be text", field)
    cleaned = (value or "").strip()
    if "\x00" in cleaned:
        raise _refuse(f"{label}: must not contain NUL characters", field)
    if not cleaned:
        if required:
            raise _refuse(f"{label}: is required", field)
        return None
    if len(cleaned) > longest:
        raise _refuse(f"{label}: at most {longest} characters", field)
    return cleaned


def _required_text(
    value: str | None, field: str, *, longest: int, where: str = "", label: str | None = None
) -> str:
    return _text(value, field, longest=longest, where=where, label=label) or ""  # blank is refused


def form_name(value: str) -> str:
    return _required_text(value, "name", longest=MAX_NAME)


def form_kind(value: str) -> FormKind:
    try:
        return FormKind(value)
    except ValueError:
        kinds = ", ".join(kind.value for kind in FormKind)
        raise _refuse(f"kind: must be one of {kinds}", "kind") from None


def _options(values: Sequence[str], field: str, *, where: str, fewest: int, most: int) -> list[str]:
    label = f"{where}{field}"
    if isinstance(values, str):
        raise _refuse(f"{label}: must be a list", field)
    if len(values) > most:
        raise _refuse(f"{label}: at most {most}", field)
    cleaned = [
        _required_text(value, field, longest=MAX_OPTION_TEXT, label=f"{label}.{index}")
        for index, value in enumerate(values)
    ]
    if len(cleaned) < fewest:
        raise _refuse(f"{label}: at least {fewest}", field)
    if len({option.casefold() for option in cleaned}) != len(cleaned):
        raise _refuse(f"{label}: must be distinct", field)
    return cleaned


def _question(definition: QuestionDefinition, where: str) -> QuestionDefinition:
    try:
        kind = FormQuestionKind(definition.kind)
    except ValueError:
        kinds = ", ".join(kind.value for kind in FormQuestionKind)
        raise _refuse(f"{where}kind: must be one of {kinds}", "kind") from None
    choices: list[str] = []
    rows: list[str] = []
    columns: list[str] = []
    if kind in CHOICE_KINDS:
        choices = _options(
            definition.choices, "choices", where=where, fewest=CHOICE_KINDS[kind], most=MAX_CHOICES
        )
    elif definition.choices:
        raise _refuse(f"{where}choices: only choice questions have choices", "choices")
    if kind is FormQuestionKind.matrix:
        rows = _options(definition.matrix_rows, "matrix_rows", where=where, fewest=1, most=MAX_MATRIX_ROWS)
        columns = _options(
            definition.matrix_columns, "matrix_columns", where=where, fewest=2, most=MAX_MATRIX_COLUMNS
        )
    elif definition.matrix_rows or definition.matrix_columns:
        field = "matrix_rows" if definition.matrix_rows else "matrix_columns"
        raise _refuse(f"{where}{field}: only matrix questions have rows and columns", field)
    if not isinstance(definition.required, bool):
        raise _refuse(f"{where}required: must be true or false", "required")
    return QuestionDefinition(
        kind=kind,
        text=_required_text(definition.text, "text", longest=MAX_QUESTION_TEXT, where=where),
        required=definition.required,
        help_text=_text(
            definition.help_text, "help_text", longest=MAX_HELP_TEXT, where=where, required=False
        ),
        choices=choices,
        matrix_rows=rows,
        matrix_columns=columns,
    )


def _sections(sections: Sequence[SectionDefinition]) -> list[SectionDefinition]:
    if len(sections) > MAX_SECTIONS:
        raise _refuse(f"sections: at most {MAX_SECTIONS}", "sections")
    if sum(len(section.questions) for section in sections) > MAX_QUESTIONS:
        raise _refuse(f"sections: at most {MAX_QUESTIONS} questions in a form", "sections")
    cleaned = []
    for index, section in enumerate(sections):
        where = f"sections.{index}."
        if not section.questions:
            raise _refuse(f"{where}questions: a section holds at least one question", "questions")
        cleaned.append(
            SectionDefinition(
                title=_text(section.title, "title", longest=MAX_SECTION_TITLE, where=where, required=False),
                description=_text(
                    section.description,
                    "description",
                    longest=MAX_SECTION_DESCRIPTION,
                    where=where,
                    required=False,
                ),
                questions=[
                    _question(question, f"{where}questions.{number}.")
                    for number, question in enumerate(section.questions)
                ],
            )
        )
    return cleaned


def sanitise_consent_html(html: str) -> str:
    """The HTML with only harmless tags, attributes and links left (``nh3``, ammonia's allow-lists)."""
    return nh3.clean(html, tags=CONSENT_TAGS)


def _consent_documents(documents: Sequence[ConsentDocumentDefinition]) -> list[ConsentDocumentDefinition]:
    if len(documents) > MAX_CONSENT_DOCUMENTS:
        raise _refuse(f"consent_documents: at most {MAX_CONSENT_DOCUMENTS}", "consent_documents")
    cleaned = []
    for index, document in enumerate(documents):
        where = f"consent_documents.{index}."
        name = _required_text(document.name, "name", longest=MAX_NAME, where=where)
        html = _required_text(document.html, "html", longest=MAX_CONSENT_HTML, where=where)
        safe = sanitise_consent_html(html).strip()
        if not nh3.clean(safe, tags=set()).strip():
            raise _refuse(f"{where}html: holds no text once sanitised", "html")
        cleaned.append(ConsentDocumentDefinition(name=name, html=safe))
    return cleaned


def _require_something(*, has_sections: bool, has_consent_documents: bool) -> None:
    if not has_sections and not has_consent_documents:
        raise _refuse("sections: a form holds at least one question or one consent document", "sections")


# --- storage --------------------------------------------------------------------------------------


def _reference(form_id: str | uuid.UUID) -> uuid.UUID | None:
    if isinstance(form_id, uuid.UUID):
        return form_id
    reference = form_id.strip()
    if not reference or len(reference) > MAX_REFERENCE:
        return None
    try:
        return uuid.UUID(reference)
    except ValueError:
        return None


async def _owned_form(session: AsyncSession, *, owner: FormOwner, form_id: str | uuid.UUID) -> FormTemplate:
    our_id = _reference(form_id)
    form = await repository.get_form(session, owner=owner, form_id=our_id) if our_id is not None else None
    if form is None:
        raise NotFound("form not found")
    return form


async def _write_sections(
    session: AsyncSession, form: FormTemplate, sections: Sequence[SectionDefinition]
) -> None:
    """The sections first (no ORM relationship orders the inserts), then their questions, numbered in
    form order."""
    rows = [
        FormSection(
            id=uuid.uuid4(),
            form_id=form.id,
            position=index,
            title=definition.title,
            description=definition.description,
        )
        for index, definition in enumerate(sections)
    ]
    session.add_all(rows)
    await session.flush()
    position = 0
    for section, definition in zip(rows, sections, strict=True):
        for question in definition.questions:
            session.add(
                FormQuestion(
                    form_id=form.id,
                    section_id=section.id,
                    position=position,
                    kind=str(question.kind),
                    text=question.text,
                    help_text=question.help_text,
                    required=question.required,
                    choices=list(question.choices),
                    matrix_rows=list(question.matrix_rows),
                    matrix_columns=list(question.matrix_columns),
                )
            )
            position += 1


def _write_consent_documents(
    session: AsyncSession, form: FormTemplate, documents: Sequence[ConsentDocumentDefinition]
) -> None:
    session.add_all(
        FormConsentDocument(form_id=form.id, position=index, name=document.name, html=document.html)
        for index, document in enumerate(documents)
    )


async def _require_room(session: AsyncSession, owner: FormOwner) -> None:
    if await repository.count_forms(session, owner) >= MAX_FORMS_PER_OWNER:
        raise InvalidInput(
            f"forms: at most {MAX_FORMS_PER_OWNER} form templates; archive or remove some first",
            field="forms",
            subject=SUBJECT,
            rule="forms.too_many",
        )


def _check_owner(owner: FormOwner) -> None:
    if (owner.partner_id is None) == (owner.clinic_id is None):
        raise ValueError("a form's owner is a partner or a clinic, exactly one")


async def _record(session: AsyncSession, form: FormTemplate, action: str, actor: Actor, clock: Clock) -> None:
    await audit_service.record(
        session,
        clinic_id=form.clinic_id,
        actor=actor,
        action=action,
        target_type="form",
        target_id=form.id,
        details={"partner_id": str(form.partner_id)} if form.partner_id else None,
        clock=clock,
    )


async def get_form(session: AsyncSession, *, owner: FormOwner, form_id: str | uuid.UUID) -> FormContents:
    """The owner's template with its sections, questions and consent documents, in order."""
    form = await _owned_form(session, owner=owner, form_id=form_id)
    return await _contents(session, form)


async def _contents(session: AsyncSession, form: FormTemplate) -> FormContents:
    await session.flush()
    questions = await repository.questions_of(session, form.id)
    sections = [
        SectionContents(section=section, questions=[q for q in questions if q.section_id == section.id])
        for section in await repository.sections_of(session, form.id)
    ]
    return FormContents(
        form=form,
        sections=sections,
        consent_documents=await repository.consent_documents_of(session, form.id),
    )


async def create_form(
    session: AsyncSession,
    *,
    owner: FormOwner,
    definition: FormDefinition,
    actor: Actor = audit_service.SYSTEM,
    clock: Clock = system_clock,
) -> FormContents:
    _check_owner(owner)
    name, kind = form_name(definition.name), form_kind(definition.kind)
    sections, documents = _sections(definition.sections), _consent_documents(definition.consent_documents)
    _require_something(has_sections=bool(sections), has_consent_documents=bool(documents))
    await _require_room(session, owner)
    now = clock.now()
    form = FormTemplate(
        id=uuid.uuid4(),
        partner_id=owner.partner_id,
        clinic_id=owner.clinic_id,
        name=name,
        kind=kind.value,
        archived=False,
        revision=1,
        created_at=now,
        updated_at=now,
    )
    session.add(form)
    await session.flush()
    await _write_sections(session, form, sections)
    _write_consent_documents(session, form, documents)
    await _record(session, form, "form.created", actor, clock)
    return await _contents(session, form)


async def update_form(
    session: AsyncSession,
    *,
    owner: FormOwner,
    form_id: str | uuid.UUID,
    changes: FormChanges,
    actor: Actor = audit_service.SYSTEM,
    clock: Clock = system_clock,
) -> FormContents:
    """Change what is given; new sections or consent documents replace the old ones (a new revision)."""
    form = await _owned_form(session, owner=owner, form_id=form_id)
    name = form_name(changes.name) if changes.name is not NOT_GIVEN else form.name
    kind = form_kind(changes.kind).value if changes.kind is not NOT_GIVEN else form.kind
    current = await _contents(session, form)
    sections = _sections(changes.sections) if changes.sections is not NOT_GIVEN else None
    documents = (
        _consent_documents(changes.consent_documents) if changes.consent_documents is not NOT_GIVEN else None
    )
    _require_something(
        has_sections=bool(current.sections if sections is None else sections),
        has_consent_documents=bool(current.consent_documents if documents is None else documents),
    )
    form.name, form.kind = name, kind
    if sections is not None:
        await repository.delete_sections(session, form.id)
        await _write_sections(session, form, sections)
    if documents is not None:
        await repository.delete_consent_documents(session, form.id)
        _write_consent_documents(session, form, documents)
    if sections is not None or documents is not None:
        form.revision += 1
    form.updated_at = clock.now()
    await _record(session, form, "form.updated", actor, clock)
    return await _contents(session, form)


async def set_form_archived(
    session: AsyncSession,
    *,
    owner: FormOwner,
    form_id: str | uuid.UUID,
    archived: bool,
    actor: Actor = audit_service.SYSTEM,
    clock: Clock = system_clock,
) -> FormTemplate:
    form = await _owned_form(session, owner=owner, form_id=form_id)
    if form.archived != archived:
        form.archived, form.updated_at = archived, clock.now()
        await session.flush()
        await _record(session, form, "form.archived" if archived else "form.unarchived", actor, clock)
    return form


async def list_forms(session: AsyncSession, *, owner: FormOwner) -> Sequence[FormTemplate]:
    """The owner's templates, archived ones included, oldest first."""
    _check_owner(owner)
    return await repository.list_forms(session, owner)


async def find_form_named(session: AsyncSession, *, owner: FormOwner, name: str) -> FormTemplate | None:
    """The owner's oldest template of that name, if any."""
    _check_owner(owner)
    return await repository.form_named(session, owner=owner, name=name)


async def find_copy(
    session: AsyncSession, *, clinic_id: uuid.UUID, source_form_id: uuid.UUID
) -> FormTemplate | None:
    """The clinic's oldest copy of a master form, if any."""
    return await repository.copy_of(session, owner=FormOwner.clinic(clinic_id), source_form_id=source_form_id)


async def list_practice_forms(
    session: AsyncSession, *, partner_id: uuid.UUID, practice: str
) -> Sequence[FormTemplate]:
    """The forms of one of the partner's practices (``practice``: its id or external id)."""
    clinic = await practices.practice_of_partner(session, partner_id=partner_id, reference=practice)
    return await repository.list_forms(session, FormOwner.clinic(clinic.id))


async def copy_master_form(
    session: AsyncSession,
    *,
    partner_id: uuid.UUID,
    source_form_id: str | None,
    destination_practice: str | None,
    copy_consent_documents: bool,
    actor: Actor = audit_service.SYSTEM,
    clock: Clock = system_clock,
) -> FormTemplate:
    """A new practice form made from one of the partner's master forms, in one of its practices
    (``destination_practice``: its id or external id). Both are required."""
    for field, value in (("source_form_id", source_form_id), ("destination_practice", destination_practice)):
        if value is None or not value.strip():
            raise _refuse(f"{field}: is required", field)
    assert source_form_id is not None and destination_practice is not None
    try:
        source = await _owned_form(session, owner=FormOwner.partner(partner_id), form_id=source_form_id)
    except NotFound:
        raise NotFound(
            "source_form_id: no such master form", field="source_form_id", subject=SUBJECT
        ) from None
    if source.archived:
        raise InvalidInput(
            "source_form_id: the master form is archived",
            field="source_form_id",
            subject=SUBJECT,
            rule="forms.source_archived",
        )
    try:
        clinic = await practices.practice_of_partner(
            session, partner_id=partner_id, reference=destination_practice
        )
    except NotFound:
        raise NotFound(
            "destination_practice: no such practice", field="destination_practice", subject=SUBJECT
        ) from None
    owner = FormOwner.clinic(clinic.id)
    await _require_room(session, owner)
    contents = await _contents(session, source)
    if not contents.sections and not copy_consent_documents:
        raise InvalidInput(
            "copy_consent_documents: the master form holds consent documents only; copy them too",
            field="copy_consent_documents",
            subject=SUBJECT,
            rule="forms.copy_would_be_empty",
        )
    now = clock.now()
    copy = FormTemplate(
        id=uuid.uuid4(),
        clinic_id=clinic.id,
        source_form_id=source.id,
        name=source.name,
        kind=source.kind,
        archived=False,
        revision=1,
        created_at=now,
        updated_at=now,
    )
    session.add(copy)
    await session.flush()
    await _write_sections(
        session,
        copy,
        [
            SectionDefinition(
                title=part.section.title,
                description=part.section.description,
                questions=[
                    QuestionDefinition(
                        kind=question.kind,
                        text=question.text,
                        required=question.required,
                        help_text=question.help_text,
                        choices=question.choices,
                        matrix_rows=question.matrix_rows,
                        matrix_columns=question.matrix_columns,
                    )
                    for question in part.questions
                ],
            )
            for part in contents.sections
        ],
    )
    if copy_consent_documents:
        _write_consent_documents(
            session,
            copy,
            [
                ConsentDocumentDefinition(name=document.name, html=document.html)
                for document in contents.consent_documents
            ],
        )
    await session.flush()
    await _record(session, copy, "form.copied", actor, clock)
    return copy
