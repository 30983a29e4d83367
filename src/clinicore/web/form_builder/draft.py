"""The form builder's draft: a form as the page posts it, before the core has looked at it.

The posted fields are the source of truth. Their names are the core's own paths, so that a core message
(``sections.0.questions.2.text: is required``) lands next to the field it names:

- ``name``, ``kind`` (a ``FormKind``);
- ``sections.S.title``, ``sections.S.description``;
- ``sections.S.questions.Q.kind`` (a ``FormQuestionKind``), ``.text``, ``.help_text``, ``.required``
  (a checkbox), ``.choices``, ``.matrix_rows``, ``.matrix_columns`` (one option a line; blank lines are
  only layout and are dropped);
- ``consent_documents.K.name``, ``consent_documents.K.html``.

Indices order the items (sparse or unsorted indices are read in numeric order and renumbered from 0), so
that a page without JavaScript and one with it post the same thing. A ``builder_action`` button (add,
remove, move up or down a section, a question or a consent document) changes the draft without saving
it; the JavaScript does the same in the page without a round trip. Saving turns the draft into the
core's ``FormDefinition``/``FormChanges`` as typed: every rule (lengths, counts, choices, consent HTML)
is the core's, and nothing here decides whether a form is valid.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from clinicore.core.forms import service as form_service
from clinicore.core.forms.schemas import (
    ConsentDocumentDefinition,
    FormChanges,
    FormContents,
    FormDefinition,
    QuestionDefinition,
    SectionDefinition,
)
from clinicore.core.models import FormKind, FormQuestionKind
from clinicore.kit.errors import CoreError

T = TypeVar("T")

FORM_KIND_LABELS = {FormKind.questionnaire: "Questionnaire", FormKind.treatment_note: "Treatment note"}
QUESTION_KIND_LABELS = {
    FormQuestionKind.text: "Short text",
    FormQuestionKind.long_text: "Long text",
    FormQuestionKind.number: "Number",
    FormQuestionKind.date: "Date",
    FormQuestionKind.single_choice: "Single choice",
    FormQuestionKind.multiple_choice: "Multiple choice",
    FormQuestionKind.matrix: "Matrix (one column a row)",
    FormQuestionKind.file_upload: "File upload",
    FormQuestionKind.signature: "Signature",
}
CHOICE_KINDS = frozenset({FormQuestionKind.single_choice.value, FormQuestionKind.multiple_choice.value})
MATRIX_KINDS = frozenset({FormQuestionKind.matrix.value})

# What a post may hold: the core's limits, plus one item of slack so that the core (not a silent cut)
# says "at most". Every field of a full form: name, kind, 2 per section, 7 per question, 2 per document.
MAX_SECTIONS = form_service.MAX_SECTIONS + 1
MAX_QUESTIONS = form_service.MAX_QUESTIONS + 1
MAX_CONSENT_DOCUMENTS = form_service.MAX_CONSENT_DOCUMENTS + 1
MAX_FIELDS = 8 + 2 * MAX_SECTIONS + 7 * MAX_QUESTIONS + 2 * MAX_CONSENT_DOCUMENTS
# 20 consent documents of 200,000 characters, URL-encoded, are more than this: the page answers 413
# ("the form is too large") long before the core's own bounds would; no real form is near it.
MAX_BODY_BYTES = 8 * 1024 * 1024

_SECTION_FIELD = re.compile(r"^sections\.(\d{1,4})\.(title|description)$")
_QUESTION_FIELD = re.compile(
    r"^sections\.(\d{1,4})\.questions\.(\d{1,4})\."
    r"(kind|text|help_text|required|choices|matrix_rows|matrix_columns)$"
)
_CONSENT_FIELD = re.compile(r"^consent_documents\.(\d{1,4})\.(name|html)$")
_OPTION_PATH = re.compile(r"^(sections\.\d+\.questions\.\d+\.(?:choices|matrix_rows|matrix_columns))\.\d+$")
_ACTION = re.compile(
    r"^(add_section|add_consent|add_question|remove_section|remove_question|remove_consent"
    r"|move_section_up|move_section_down|move_question_up|move_question_down"
    r"|move_consent_up|move_consent_down)(?::(\d{1,4}))?(?::(\d{1,4}))?$"
)


@dataclass(slots=True)
class QuestionDraft:
    kind: str = FormQuestionKind.text.value
    text: str = ""
    help_text: str = ""
    required: bool = False
    choices: str = ""
    matrix_rows: str = ""
    matrix_columns: str = ""


@dataclass(slots=True)
class SectionDraft:
    title: str = ""
    description: str = ""
    questions: list[QuestionDraft] = field(default_factory=list)


@dataclass(slots=True)
class ConsentDraft:
    name: str = ""
    html: str = ""


@dataclass(slots=True)
class FormDraft:
    name: str = ""
    kind: str = FormKind.questionnaire.value
    sections: list[SectionDraft] = field(default_factory=list)
    consent_documents: list[ConsentDraft] = field(default_factory=list)

    @classmethod
    def blank(cls) -> FormDraft:
        """A new form: one untitled section with one short-text question."""
        return cls(sections=[SectionDraft(questions=[QuestionDraft()])])


# --- from a post, from the core --------------------------------------------------------------------


def draft_from_post(fields: Mapping[str, str]) -> FormDraft:
    """The draft the page posted; names it does not know are ignored."""
    sections: dict[int, dict[str, str]] = {}
    questions: dict[int, dict[int, dict[str, str]]] = {}
    documents: dict[int, dict[str, str]] = {}
    for name, value in fields.items():
        if match := _SECTION_FIELD.match(name):
            sections.setdefault(int(match[1]), {})[match[2]] = value
        elif match := _QUESTION_FIELD.match(name):
            section = int(match[1])
            sections.setdefault(section, {})
            questions.setdefault(section, {}).setdefault(int(match[2]), {})[match[3]] = value
        elif match := _CONSENT_FIELD.match(name):
            documents.setdefault(int(match[1]), {})[match[2]] = value
    return FormDraft(
        name=fields.get("name", ""),
        kind=fields.get("kind", ""),
        sections=[
            SectionDraft(
                title=sections[index].get("title", ""),
                description=sections[index].get("description", ""),
                questions=[
                    _question_from_post(posted)
                    for _number, posted in sorted(questions.get(index, {}).items())
                ],
            )
            for index in sorted(sections)
        ],
        consent_documents=[
            ConsentDraft(name=posted.get("name", ""), html=posted.get("html", ""))
            for _index, posted in sorted(documents.items())
        ],
    )


def _question_from_post(posted: Mapping[str, str]) -> QuestionDraft:
    return QuestionDraft(
        kind=posted.get("kind", ""),
        text=posted.get("text", ""),
        help_text=posted.get("help_text", ""),
        required=bool(posted.get("required")),  # a checked box posts its value, an unchecked one nothing
        choices=posted.get("choices", ""),
        matrix_rows=posted.get("matrix_rows", ""),
        matrix_columns=posted.get("matrix_columns", ""),
    )


def draft_from_contents(contents: FormContents) -> FormDraft:
    """A stored template as the builder shows it."""
    return FormDraft(
        name=contents.form.name,
        kind=contents.form.kind,
        sections=[
            SectionDraft(
                title=part.section.title or "",
                description=part.section.description or "",
                questions=[
                    QuestionDraft(
                        kind=question.kind,
                        text=question.text,
                        help_text=question.help_text or "",
                        required=question.required,
                        choices="\n".join(question.choices),
                        matrix_rows="\n".join(question.matrix_rows),
                        matrix_columns="\n".join(question.matrix_columns),
                    )
                    for question in part.questions
                ],
            )
            for part in contents.sections
        ],
        consent_documents=[
            ConsentDraft(name=document.name, html=document.html) for document in contents.consent_documents
        ],
    )


# --- to the core ----------------------------------------------------------------------------------


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _sections(draft: FormDraft) -> list[SectionDefinition]:
    return [
        SectionDefinition(
            title=section.title,
            description=section.description,
            questions=[
                QuestionDefinition(
                    kind=question.kind,
                    text=question.text,
                    required=question.required,
                    help_text=question.help_text,
                    choices=_lines(question.choices),
                    matrix_rows=_lines(question.matrix_rows),
                    matrix_columns=_lines(question.matrix_columns),
                )
                for question in section.questions
            ],
        )
        for section in draft.sections
    ]


def _consent_documents(draft: FormDraft) -> list[ConsentDocumentDefinition]:
    return [ConsentDocumentDefinition(name=doc.name, html=doc.html) for doc in draft.consent_documents]


def definition_of(draft: FormDraft) -> FormDefinition:
    """What ``form_service.create_form`` takes."""
    return FormDefinition(
        name=draft.name,
        kind=draft.kind,
        sections=_sections(draft),
        consent_documents=_consent_documents(draft),
    )


def changes_of(draft: FormDraft) -> FormChanges:
    """What ``form_service.update_form`` takes: the whole form, replacing what was stored."""
    return FormChanges(
        name=draft.name,
        kind=draft.kind,
        sections=_sections(draft),
        consent_documents=_consent_documents(draft),
    )


# --- builder actions ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BuilderAction:
    verb: str
    first: int | None = None
    second: int | None = None


def read_action(raw: str | None) -> BuilderAction | None:
    """``add_question:0``, ``move_question_up:1:3``...; anything else is no action (the form is saved)."""
    match = _ACTION.match(raw or "")
    if match is None:
        return None
    return BuilderAction(
        verb=match[1],
        first=int(match[2]) if match[2] is not None else None,
        second=int(match[3]) if match[3] is not None else None,
    )


def _move(items: list[T], index: int | None, step: int) -> None:
    if index is None or not 0 <= index < len(items):
        return
    target = index + step
    if 0 <= target < len(items):
        items[index], items[target] = items[target], items[index]


def apply_action(draft: FormDraft, action: BuilderAction) -> str | None:
    """Change the draft in place; returns why nothing was added when the core's limit is reached. An
    index that names nothing changes nothing (a stale page)."""
    verb, first, second = action.verb, action.first, action.second
    question_count = sum(len(section.questions) for section in draft.sections)
    section = draft.sections[first] if first is not None and 0 <= first < len(draft.sections) else None
    if verb == "add_section":
        if len(draft.sections) >= form_service.MAX_SECTIONS:
            return f"sections: at most {form_service.MAX_SECTIONS}"
        if question_count >= form_service.MAX_QUESTIONS:
            return f"sections: at most {form_service.MAX_QUESTIONS} questions in a form"
        draft.sections.append(SectionDraft(questions=[QuestionDraft()]))
    elif verb == "add_question" and section is not None:
        if question_count >= form_service.MAX_QUESTIONS:
            return f"sections: at most {form_service.MAX_QUESTIONS} questions in a form"
        section.questions.append(QuestionDraft())
    elif verb == "add_consent":
        if len(draft.consent_documents) >= form_service.MAX_CONSENT_DOCUMENTS:
            return f"consent_documents: at most {form_service.MAX_CONSENT_DOCUMENTS}"
        draft.consent_documents.append(ConsentDraft())
    elif verb == "remove_section" and section is not None:
        draft.sections.remove(section)
    elif verb == "remove_consent" and first is not None and 0 <= first < len(draft.consent_documents):
        del draft.consent_documents[first]
    elif verb == "remove_question" and section is not None and second is not None:
        if 0 <= second < len(section.questions):
            del section.questions[second]
    elif verb in ("move_section_up", "move_section_down"):
        _move(draft.sections, first, -1 if verb.endswith("up") else 1)
    elif verb in ("move_consent_up", "move_consent_down"):
        _move(draft.consent_documents, first, -1 if verb.endswith("up") else 1)
    elif verb in ("move_question_up", "move_question_down") and section is not None:
        _move(section.questions, second, -1 if verb.endswith("up") else 1)
    return None


# --- errors next to their fields ------------------------------------------------------------------


def error_field(message: str) -> str:
    """The posted field a core message names (``sections.0.questions.2.choices.1: ...`` -> the choices
    of that question), or the path it starts with when no field has that name (``sections``)."""
    path = message.split(":", 1)[0].strip() if ":" in message else ""
    if match := _OPTION_PATH.match(path):
        return match[1]
    return path


def field_errors(error: CoreError | str | None) -> dict[str, str]:
    """``{field name: message}`` for the page to show beside each field."""
    if error is None:
        return {}
    message = error if isinstance(error, str) else error.message
    return {error_field(message): message}


# --- what the template shows ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BuilderView:
    """Everything the ``form_builder`` macro needs besides the page's action URL and CSRF token."""

    draft: FormDraft
    errors: Mapping[str, str]
    form_kinds: Sequence[tuple[str, str]] = tuple((str(k), label) for k, label in FORM_KIND_LABELS.items())
    question_kinds: Sequence[tuple[str, str]] = tuple(
        (str(k), label) for k, label in QUESTION_KIND_LABELS.items()
    )
    choice_kinds: frozenset[str] = CHOICE_KINDS
    matrix_kinds: frozenset[str] = MATRIX_KINDS
    blank_question: QuestionDraft = field(default_factory=QuestionDraft)
    blank_consent: ConsentDraft = field(default_factory=ConsentDraft)

    def error(self, name: str) -> str | None:
        return self.errors.get(name)
