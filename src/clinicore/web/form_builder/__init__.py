"""The form builder: one set of pages' parts for any owner's form templates (a clinic's practice forms in
the clinic console, a partner's master forms in the partner console).

What it is made of:

- ``draft.py``: ``FormDraft`` (the form as posted; field names are the core's paths, such as
  ``sections.0.questions.2.text``), ``draft_from_post``, ``draft_from_contents`` (a stored template, to
  edit it), ``definition_of`` and ``changes_of`` (to ``FormDefinition`` and ``FormChanges`` of
  ``core/forms/schemas.py``), the builder actions (add, remove, move up or down a section, a question or a
  consent document), ``field_errors`` (a core message placed beside the field it names) and
  ``BuilderView`` (what the template renders).
- ``posting.py``: ``submit_builder``: the capped POST (the app's body limit, 1 MB by default, and 8 MB at
  most here; a bounded number of fields; 413 beyond), the CSRF check, then either a builder action (the
  page again, nothing saved) or one core call in a SAVEPOINT (a refusal shows the page again with
  everything as typed and the core's message).
- ``templates/form_builder/macros.html``: ``form_builder(view, action, csrf_token, submit_label,
  cancel_url)``, in any page of the shared Jinja environment (``web/templating.py`` loads it).
- ``static/form_builder.js`` (and ``form_builder.css``): the same tools in the page without a round trip;
  the page works without it.

Nothing here decides whether a form is valid: the core's ``create_form`` / ``update_form`` do, with
their own limits and messages. The owner is the page's business: pass ``FormOwner.clinic(...)`` or
``FormOwner.partner(...)`` to the core in ``save``.

Using it for another owner (the partner console's master forms), in three routes::

    from clinicore.core.forms import service as form_service
    from clinicore.core.forms.schemas import FormOwner
    from clinicore.web.form_builder.draft import BuilderView, FormDraft, changes_of, definition_of
    from clinicore.web.form_builder.posting import submit_builder

    @router.get("/partner/forms/new")
    async def new_form(request, user, ...):
        return render(request, "partner_form_edit.html", view=BuilderView(FormDraft.blank(), {}), ...)

    @router.post("/partner/forms/new")
    async def create(request, user, session, runtime):
        owner = FormOwner.partner(user.partner.id)

        async def save(draft: FormDraft) -> str:
            contents = await form_service.create_form(
                session, owner=owner, definition=definition_of(draft), actor=..., clock=runtime.clock
            )
            return f"/partner/forms/{contents.form.id}"

        async def show(draft, errors, status_code):
            return render(request, "partner_form_edit.html", status_code=status_code,
                          view=BuilderView(draft, errors), ...)

        return await submit_builder(
            request, session, csrf_token=<the page's CSRF token>, save=save, show=show
        )

Editing is the same with ``draft_from_contents(await form_service.get_form(...))`` for the GET and
``form_service.update_form(..., changes=changes_of(draft))`` in ``save``. In the page template::

    {% from "form_builder/macros.html" import form_builder %}
    {{ form_builder(view, "/partner/forms/new", csrf_token, submit_label="Create form",
                    cancel_url="/partner/forms") }}

The clinic console's use is ``web/console/form_pages.py`` (list, new, edit, view, archive).
"""
