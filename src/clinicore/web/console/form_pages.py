"""Console pages for the clinic's form templates (its practice forms): the list, the form builder (new,
edit), a read-only view, archive and unarchive.

Every rule is the core's (``core/forms/service.py``); the pages only read the builder's post and show the
core's messages beside the fields. Another clinic's form, or a partner's master form, is the 404 page.
A practice form copied from one of the partner's master forms names it.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from clinicore.core.audit.service import Actor
from clinicore.core.forms import service as form_service
from clinicore.core.forms.schemas import FormOwner
from clinicore.core.models import FormTemplate
from clinicore.core.tenancy.permissions import Permission
from clinicore.core.tenancy.schemas import SignedInUser
from clinicore.requests import RuntimeDep, SessionDep
from clinicore.runtime import Runtime
from clinicore.web.console.form_models import EmptyForm
from clinicore.web.console.forms import Refusal, refusal_context, submit_form
from clinicore.web.console.routes import render
from clinicore.web.console.session import require
from clinicore.web.form_builder.draft import (
    FORM_KIND_LABELS,
    QUESTION_KIND_LABELS,
    BuilderView,
    FormDraft,
    changes_of,
    definition_of,
    draft_from_contents,
)
from clinicore.web.form_builder.posting import submit_builder

router = APIRouter(include_in_schema=False)

# Every page here is the form templates': a staff role without "edit templates" gets the 403 page.
TemplateEditor = Annotated[SignedInUser, require(Permission.edit_templates)]

NOTICES = {
    "created": "Form created.",
    "saved": "Form saved.",
    "archived": "Form archived: it stays listed, and can be unarchived.",
    "unarchived": "Form unarchived.",
}


def form_path(form_id: uuid.UUID, **query: str) -> str:
    suffix = "&".join(f"{name}={value}" for name, value in query.items())
    return f"/console/forms/{form_id}" + (f"?{suffix}" if suffix else "")


def _owner(user: SignedInUser) -> FormOwner:
    return FormOwner.clinic(user.clinic.id)


async def _master_form_names(
    session: AsyncSession, user: SignedInUser, forms: Sequence[FormTemplate]
) -> dict[uuid.UUID, str]:
    """The names of the partner's master forms these forms were copied from."""
    partner_id = user.clinic.partner_id
    if partner_id is None or not any(form.source_form_id for form in forms):
        return {}
    masters = await form_service.list_forms(session, owner=FormOwner.partner(partner_id))
    return {master.id: master.name for master in masters}


# --- the list -------------------------------------------------------------------------------------


@router.get("/console/forms")
async def forms_page(request: Request, user: TemplateEditor, session: SessionDep) -> Response:
    forms = await form_service.list_forms(session, owner=_owner(user))
    return render(
        request,
        "forms_list.html",
        user=user,
        nav="forms",
        forms=forms,
        masters=await _master_form_names(session, user, forms),
        kinds=FORM_KIND_LABELS,
    )


# --- new and edit: the builder --------------------------------------------------------------------


def _builder_page(
    request: Request,
    user: SignedInUser,
    *,
    draft: FormDraft,
    errors: Mapping[str, str],
    status_code: int,
    form: FormTemplate | None = None,
) -> Response:
    return render(
        request,
        "form_edit.html",
        status_code=status_code,
        user=user,
        nav="forms",
        view=BuilderView(draft=draft, errors=errors),
        form=form,
        action=f"/console/forms/{form.id}/edit" if form else "/console/forms/new",
    )


@router.get("/console/forms/new")
async def new_form_page(request: Request, user: TemplateEditor) -> Response:
    return _builder_page(request, user, draft=FormDraft.blank(), errors={}, status_code=200)


@router.post("/console/forms/new")
async def create_form(
    request: Request, user: TemplateEditor, session: SessionDep, runtime: RuntimeDep
) -> Response:
    async def save(draft: FormDraft) -> str:
        contents = await form_service.create_form(
            session,
            owner=_owner(user),
            definition=definition_of(draft),
            actor=Actor.user(user.user.id),
            clock=runtime.clock,
        )
        return form_path(contents.form.id, notice="created")

    async def show(draft: FormDraft, errors: Mapping[str, str], status_code: int) -> Response:
        return _builder_page(request, user, draft=draft, errors=errors, status_code=status_code)

    return await submit_builder(
        request, session, csrf_token=user.console_session.csrf_token, save=save, show=show
    )


@router.get("/console/forms/{form_id}/edit")
async def edit_form_page(
    request: Request, form_id: str, user: TemplateEditor, session: SessionDep
) -> Response:
    contents = await form_service.get_form(session, owner=_owner(user), form_id=form_id)
    return _builder_page(
        request,
        user,
        draft=draft_from_contents(contents),
        errors={},
        status_code=200,
        form=contents.form,
    )


@router.post("/console/forms/{form_id}/edit")
async def update_form(
    request: Request, form_id: str, user: TemplateEditor, session: SessionDep, runtime: RuntimeDep
) -> Response:
    form = (await form_service.get_form(session, owner=_owner(user), form_id=form_id)).form

    async def save(draft: FormDraft) -> str:
        await form_service.update_form(
            session,
            owner=_owner(user),
            form_id=form.id,
            changes=changes_of(draft),
            actor=Actor.user(user.user.id),
            clock=runtime.clock,
        )
        return form_path(form.id, notice="saved")

    async def show(draft: FormDraft, errors: Mapping[str, str], status_code: int) -> Response:
        return _builder_page(request, user, draft=draft, errors=errors, status_code=status_code, form=form)

    return await submit_builder(
        request, session, csrf_token=user.console_session.csrf_token, save=save, show=show
    )


# --- one form: view, archive, unarchive -----------------------------------------------------------


async def _form_page(
    request: Request,
    user: SignedInUser,
    session: AsyncSession,
    form_id: str | uuid.UUID,
    *,
    notice: str | None = None,
    refusal: Refusal | None = None,
) -> Response:
    contents = await form_service.get_form(session, owner=_owner(user), form_id=form_id)
    masters = await _master_form_names(session, user, [contents.form])
    return render(
        request,
        "form_view.html",
        **refusal_context(refusal),
        user=user,
        nav="forms",
        contents=contents,
        master_name=masters.get(contents.form.source_form_id) if contents.form.source_form_id else None,
        kinds=FORM_KIND_LABELS,
        question_kinds=QUESTION_KIND_LABELS,
        notice=NOTICES.get(notice or ""),
    )


@router.get("/console/forms/{form_id}")
async def form_page(
    request: Request,
    form_id: str,
    user: TemplateEditor,
    session: SessionDep,
    notice: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    return await _form_page(request, user, session, form_id, notice=notice)


async def _set_archived(
    request: Request,
    form_id: str,
    user: SignedInUser,
    session: AsyncSession,
    runtime: Runtime,
    *,
    archived: bool,
) -> Response:
    async def act(_form: EmptyForm) -> str:
        form = await form_service.set_form_archived(
            session,
            owner=_owner(user),
            form_id=form_id,
            archived=archived,
            actor=Actor.user(user.user.id),
            clock=runtime.clock,
        )
        return form_path(form.id, notice="archived" if archived else "unarchived")

    return await submit_form(
        request,
        session,
        csrf_token=user.console_session.csrf_token,
        form=EmptyForm,
        act=act,
        refused=lambda refusal: _form_page(request, user, session, form_id, refusal=refusal),
    )


@router.post("/console/forms/{form_id}/archive")
async def archive_form(
    request: Request, form_id: str, user: TemplateEditor, session: SessionDep, runtime: RuntimeDep
) -> Response:
    return await _set_archived(request, form_id, user, session, runtime, archived=True)


@router.post("/console/forms/{form_id}/unarchive")
async def unarchive_form(
    request: Request, form_id: str, user: TemplateEditor, session: SessionDep, runtime: RuntimeDep
) -> Response:
    return await _set_archived(request, form_id, user, session, runtime, archived=False)
