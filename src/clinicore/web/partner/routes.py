"""The partner console's pages: sign-in and sign-out, the partner's practices, its brand and hosts, its
master roles and its master forms. Each form is taken the console's way (``web/console/forms.py``:
CSRF, one core call, a redirect with a notice or the page again with the reason); every query is the
signed-in partner's own (another partner's role or form reads as missing)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from clinicore.core.forms import service as forms_service
from clinicore.core.forms.schemas import FormOwner
from clinicore.core.models import FormKind, FormQuestionKind, FormTemplate
from clinicore.core.partners import brand as brand_service
from clinicore.core.partners import service as partner_service
from clinicore.core.partners.service import SignedInPartnerUser
from clinicore.core.staff import roles as roles_service
from clinicore.core.tenancy import practices as practice_service
from clinicore.kit.errors import RateLimited
from clinicore.requests import RuntimeDep, SessionDep
from clinicore.runtime import Runtime
from clinicore.web.console.forms import Refusal, refusal_context, submit_form
from clinicore.web.console.session import client_address, sign_in_throttle
from clinicore.web.desk.forms import EmptyForm, SignInForm
from clinicore.web.form_builder.draft import (
    BuilderView,
    FormDraft,
    changes_of,
    definition_of,
    draft_from_contents,
)
from clinicore.web.form_builder.posting import submit_builder
from clinicore.web.partner.forms import PERMISSION_LABELS, ArchiveForm, BrandForm, RoleForm, RoleNameForm
from clinicore.web.partner.session import (
    LOGIN_CSRF_COOKIE,
    PATH,
    SESSION_COOKIE,
    SIGN_IN_PATH,
    CurrentPartnerUser,
    PartnerRoute,
    error_page,
    expected_login_csrf,
    new_login_csrf,
    render,
    safe_next_path,
)

router = APIRouter(include_in_schema=False, route_class=PartnerRoute)

NOTICES = {
    "signed-out": "You are signed out.",
    "brand-saved": "Brand saved.",
    "role-created": "Role created.",
    "role-saved": "Role saved.",
    "role-deleted": "Role deleted.",
    "form-archived": "Form archived.",
    "form-unarchived": "Form restored.",
    "form-created": "Form created.",
    "form-saved": "Form saved.",
}
KIND_LABELS = {FormKind.questionnaire.value: "Questionnaire", FormKind.treatment_note.value: "Treatment note"}
QUESTION_KIND_LABELS = {
    FormQuestionKind.text.value: "Text",
    FormQuestionKind.long_text.value: "Long text",
    FormQuestionKind.number.value: "Number",
    FormQuestionKind.date.value: "Date",
    FormQuestionKind.single_choice.value: "Single choice",
    FormQuestionKind.multiple_choice.value: "Multiple choice",
    FormQuestionKind.matrix.value: "Matrix",
    FormQuestionKind.file_upload.value: "File upload",
    FormQuestionKind.signature.value: "Signature",
}
Notice = Annotated[str, Query(max_length=40)]
FormId = Annotated[str, Path(max_length=100)]


def _notice(key: str) -> str | None:
    return NOTICES.get(key)


# --- sign-in and sign-out ------------------------------------------------------------------------


async def _sign_in_page(
    request: Request,
    session: AsyncSession,
    runtime: Runtime,
    *,
    next_path: str | None,
    error: str | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> Response:
    pre_session_id, token = new_login_csrf(runtime)
    response = render(
        request,
        "partner/login.html",
        status_code=status_code,
        csrf_token=token,
        next=safe_next_path(next_path),
        error=error,
        notice=notice,
        me=None,
        dressed=await brand_service.partner_serving_host(session, request.url.hostname or ""),
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        pre_session_id,
        max_age=3600,
        httponly=True,
        samesite="strict",
        secure=runtime.settings.secure_cookies,
        path=SIGN_IN_PATH,
    )
    return response


@router.get(SIGN_IN_PATH)
async def show_sign_in(
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    next: Annotated[str, Query(max_length=2000)] = "",
    notice: Notice = "",
) -> Response:
    return await _sign_in_page(request, session, runtime, next_path=next, notice=_notice(notice))


@router.post(SIGN_IN_PATH)
async def sign_in(request: Request, session: SessionDep, runtime: RuntimeDep) -> Response:
    async def act(form: SignInForm) -> Response:
        opened = await partner_service.sign_in(
            session,
            email=form.email,
            password=form.password,
            client_address=client_address(request),
            throttle=sign_in_throttle(runtime),
            clock=runtime.clock,
        )
        response = RedirectResponse(safe_next_path(form.next), status_code=303)
        response.set_cookie(
            SESSION_COOKIE,
            opened.token,
            max_age=int(partner_service.SESSION_LIFETIME.total_seconds()),
            httponly=True,
            samesite="lax",
            secure=runtime.settings.secure_cookies,
            path=PATH,
        )
        response.delete_cookie(LOGIN_CSRF_COOKIE, path=SIGN_IN_PATH)
        return response

    async def refused(refusal: Refusal) -> Response:
        response = await _sign_in_page(
            request,
            session,
            runtime,
            next_path=refusal.form.get("next"),
            error=refusal.message,
            status_code=refusal.status_code,
        )
        if isinstance(refusal.error, RateLimited):
            response.headers["Retry-After"] = str(refusal.error.retry_after)
        return response

    return await submit_form(
        request,
        session,
        csrf_token=expected_login_csrf(request, runtime),
        form=SignInForm,
        act=act,
        refused=refused,
    )


@router.post(f"{PATH}/logout")
async def sign_out(
    request: Request, session: SessionDep, runtime: RuntimeDep, me: CurrentPartnerUser
) -> Response:
    async def act(_form: EmptyForm) -> Response:
        await partner_service.sign_out(session, signed_in=me, clock=runtime.clock)
        response = RedirectResponse(f"{SIGN_IN_PATH}?notice=signed-out", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path=PATH)
        return response

    async def refused(refusal: Refusal) -> Response:
        return error_page(
            request,
            status_code=refusal.status_code,
            title="Not signed out",
            message=refusal.message,
            signed_in=me,
        )

    return await submit_form(
        request, session, csrf_token=me.console_session.csrf_token, form=EmptyForm, act=act, refused=refused
    )


# --- practices -----------------------------------------------------------------------------------


@router.get(PATH)
async def practices_page(
    request: Request,
    session: SessionDep,
    me: CurrentPartnerUser,
    page: Annotated[int, Query(ge=1, le=practice_service.MAX_PAGE)] = 1,
) -> Response:
    practices = await practice_service.find_practices(session, partner_id=me.partner.id, page=page)
    return render(
        request,
        "partner/practices.html",
        me=me,
        nav="practices",
        practices=practices,
        page=page,
        has_next=len(practices) == practice_service.PAGE_SIZE,
    )


# --- brand ---------------------------------------------------------------------------------------


def _brand_form_of(me: SignedInPartnerUser) -> dict[str, str]:
    partner = me.partner
    return {
        "brand_name": partner.brand_name or "",
        "logo_url": partner.brand_logo_url or "",
        "color": partner.brand_color or "",
        "accent_color": partner.brand_accent_color or "",
        "host_names": "\n".join(partner.host_names or []),
        "allowed_redirect_hosts": "\n".join(partner.allowed_redirect_hosts or []),
        "frame_origins": "\n".join(partner.frame_origins or []),
        "form_notification_url": partner.form_notification_url or "",
    }


def _brand_page(
    request: Request, me: SignedInPartnerUser, *, notice: str | None, refusal: Refusal | None
) -> Response:
    context = refusal_context(refusal)
    if refusal is None:
        context["form"] = _brand_form_of(me)
    return render(
        request,
        "partner/brand.html",
        status_code=context.pop("status_code"),
        me=me,
        nav="brand",
        notice=notice,
        placeholder=brand_service.FORM_ID_PLACEHOLDER,
        **context,
    )


@router.get(f"{PATH}/brand")
async def brand_page(request: Request, me: CurrentPartnerUser, notice: Notice = "") -> Response:
    return _brand_page(request, me, notice=_notice(notice), refusal=None)


@router.post(f"{PATH}/brand")
async def save_brand(
    request: Request, session: SessionDep, runtime: RuntimeDep, me: CurrentPartnerUser
) -> Response:
    async def act(form: BrandForm) -> str:
        await brand_service.update_brand(
            session, partner_id=me.partner.id, settings=form.settings(), actor=me.actor, clock=runtime.clock
        )
        return f"{PATH}/brand?notice=brand-saved"

    async def refused(refusal: Refusal) -> Response:
        await session.refresh(me.partner)
        return _brand_page(request, me, notice=None, refusal=refusal)

    return await submit_form(
        request, session, csrf_token=me.console_session.csrf_token, form=BrandForm, act=act, refused=refused
    )


# --- master roles --------------------------------------------------------------------------------


async def _roles_page(
    request: Request,
    session: SessionDep,
    me: SignedInPartnerUser,
    *,
    notice: str | None,
    refusal: Refusal | None,
) -> Response:
    context = refusal_context(refusal)
    roles = await roles_service.list_roles(session, partner_id=me.partner.id)
    return render(
        request,
        "partner/roles.html",
        status_code=context.pop("status_code"),
        me=me,
        nav="roles",
        notice=notice,
        roles=roles,
        administrator=roles_service.ADMINISTRATOR,
        permission_labels=PERMISSION_LABELS,
        max_role_name=roles_service.MAX_ROLE_NAME,
        **context,
    )


@router.get(f"{PATH}/roles")
async def roles_page(
    request: Request, session: SessionDep, me: CurrentPartnerUser, notice: Notice = ""
) -> Response:
    return await _roles_page(request, session, me, notice=_notice(notice), refusal=None)


def _role_refused(
    request: Request, session: SessionDep, me: SignedInPartnerUser
) -> Callable[[Refusal], Awaitable[Response]]:
    async def refused(refusal: Refusal) -> Response:
        return await _roles_page(request, session, me, notice=None, refusal=refusal)

    return refused


@router.post(f"{PATH}/roles")
async def create_role(
    request: Request, session: SessionDep, runtime: RuntimeDep, me: CurrentPartnerUser
) -> Response:
    async def act(form: RoleForm) -> str:
        await roles_service.create_role(
            session,
            partner_id=me.partner.id,
            name=form.role_name,
            permissions=form.permissions(),
            actor=me.actor,
            clock=runtime.clock,
        )
        return f"{PATH}/roles?notice=role-created"

    return await submit_form(
        request,
        session,
        csrf_token=me.console_session.csrf_token,
        form=RoleForm,
        act=act,
        refused=_role_refused(request, session, me),
    )


@router.post(f"{PATH}/roles/change")
async def change_role(
    request: Request, session: SessionDep, runtime: RuntimeDep, me: CurrentPartnerUser
) -> Response:
    async def act(form: RoleForm) -> str:
        await roles_service.change_role(
            session,
            partner_id=me.partner.id,
            name=form.role_name,
            permissions=form.permissions(),
            actor=me.actor,
            clock=runtime.clock,
        )
        return f"{PATH}/roles?notice=role-saved"

    return await submit_form(
        request,
        session,
        csrf_token=me.console_session.csrf_token,
        form=RoleForm,
        act=act,
        refused=_role_refused(request, session, me),
    )


@router.post(f"{PATH}/roles/delete")
async def delete_role(
    request: Request, session: SessionDep, runtime: RuntimeDep, me: CurrentPartnerUser
) -> Response:
    async def act(form: RoleNameForm) -> str:
        await roles_service.delete_role(
            session, partner_id=me.partner.id, name=form.role_name, actor=me.actor, clock=runtime.clock
        )
        return f"{PATH}/roles?notice=role-deleted"

    return await submit_form(
        request,
        session,
        csrf_token=me.console_session.csrf_token,
        form=RoleNameForm,
        act=act,
        refused=_role_refused(request, session, me),
    )


# --- master forms --------------------------------------------------------------------------------


@router.get(f"{PATH}/forms")
async def forms_page(
    request: Request, session: SessionDep, me: CurrentPartnerUser, notice: Notice = ""
) -> Response:
    forms = await forms_service.list_forms(session, owner=FormOwner.partner(me.partner.id))
    return render(
        request,
        "partner/forms.html",
        me=me,
        nav="forms",
        notice=_notice(notice),
        forms=forms,
        kind_labels=KIND_LABELS,
    )


# --- master forms: the form builder (web/form_builder, engineer E's) --------------------------------


def _builder_page(
    request: Request,
    me: SignedInPartnerUser,
    *,
    draft: FormDraft,
    errors: Mapping[str, str],
    status_code: int,
    form: FormTemplate | None = None,
) -> Response:
    return render(
        request,
        "partner/form_edit.html",
        status_code=status_code,
        me=me,
        nav="forms",
        view=BuilderView(draft=draft, errors=errors),
        form=form,
        action=f"{PATH}/forms/{form.id}/edit" if form else f"{PATH}/forms/new",
    )


@router.get(f"{PATH}/forms/new")
async def new_form_page(request: Request, me: CurrentPartnerUser) -> Response:
    return _builder_page(request, me, draft=FormDraft.blank(), errors={}, status_code=200)


@router.post(f"{PATH}/forms/new")
async def create_form(
    request: Request, session: SessionDep, runtime: RuntimeDep, me: CurrentPartnerUser
) -> Response:
    async def save(draft: FormDraft) -> str:
        contents = await forms_service.create_form(
            session,
            owner=FormOwner.partner(me.partner.id),
            definition=definition_of(draft),
            actor=me.actor,
            clock=runtime.clock,
        )
        return f"{PATH}/forms/{contents.form.id}?notice=form-created"

    async def show(draft: FormDraft, errors: Mapping[str, str], status_code: int) -> Response:
        return _builder_page(request, me, draft=draft, errors=errors, status_code=status_code)

    return await submit_builder(
        request, session, csrf_token=me.console_session.csrf_token, save=save, show=show
    )


@router.get(f"{PATH}/forms/{{form_id}}/edit")
async def edit_form_page(
    request: Request, session: SessionDep, me: CurrentPartnerUser, form_id: FormId
) -> Response:
    contents = await forms_service.get_form(session, owner=FormOwner.partner(me.partner.id), form_id=form_id)
    return _builder_page(
        request, me, draft=draft_from_contents(contents), errors={}, status_code=200, form=contents.form
    )


@router.post(f"{PATH}/forms/{{form_id}}/edit")
async def update_form(
    request: Request, session: SessionDep, runtime: RuntimeDep, me: CurrentPartnerUser, form_id: FormId
) -> Response:
    owner = FormOwner.partner(me.partner.id)
    form = (await forms_service.get_form(session, owner=owner, form_id=form_id)).form

    async def save(draft: FormDraft) -> str:
        await forms_service.update_form(
            session,
            owner=owner,
            form_id=form.id,
            changes=changes_of(draft),
            actor=me.actor,
            clock=runtime.clock,
        )
        return f"{PATH}/forms/{form.id}?notice=form-saved"

    async def show(draft: FormDraft, errors: Mapping[str, str], status_code: int) -> Response:
        return _builder_page(request, me, draft=draft, errors=errors, status_code=status_code, form=form)

    return await submit_builder(
        request, session, csrf_token=me.console_session.csrf_token, save=save, show=show
    )


@router.get(f"{PATH}/forms/{{form_id}}")
async def form_page(
    request: Request, session: SessionDep, me: CurrentPartnerUser, form_id: FormId, notice: Notice = ""
) -> Response:
    contents = await forms_service.get_form(session, owner=FormOwner.partner(me.partner.id), form_id=form_id)
    return render(
        request,
        "partner/form.html",
        me=me,
        nav="forms",
        notice=_notice(notice),
        contents=contents,
        kind_labels=KIND_LABELS,
        question_kind_labels=QUESTION_KIND_LABELS,
    )


@router.post(f"{PATH}/forms/{{form_id}}/archive")
async def archive_form(
    request: Request, session: SessionDep, runtime: RuntimeDep, me: CurrentPartnerUser, form_id: FormId
) -> Response:
    async def act(form: ArchiveForm) -> str:
        archived = form.archived == "true"
        await forms_service.set_form_archived(
            session,
            owner=FormOwner.partner(me.partner.id),
            form_id=form_id,
            archived=archived,
            actor=me.actor,
            clock=runtime.clock,
        )
        return f"{PATH}/forms?notice={'form-archived' if archived else 'form-unarchived'}"

    async def refused(refusal: Refusal) -> Response:
        return error_page(
            request,
            status_code=refusal.status_code,
            title="Not changed",
            message=refusal.message,
            signed_in=me,
        )

    return await submit_form(
        request, session, csrf_token=me.console_session.csrf_token, form=ArchiveForm, act=act, refused=refused
    )
