// The form builder without round trips. The page works without this script: every tool is a submit
// button that the server applies to the posted draft. Here the same tools change the page in place, the
// fields are renumbered so that their names say their order (the posted names are the source of truth),
// and options that do not belong to a question's answer type are hidden and not posted.
(() => {
  const builders = () => document.querySelectorAll("form[data-form-builder]");

  function fromTemplate(form, name) {
    const template = form.querySelector(`template[data-builder-template="${name}"]`);
    return template.content.firstElementChild.cloneNode(true);
  }

  function syncKinds(form) {
    form.querySelectorAll("[data-question]").forEach((question) => {
      const select = question.querySelector("[data-question-kind]");
      const kind = select ? select.value : "";
      question.querySelectorAll("[data-options]").forEach((options) => {
        const relevant = options.dataset.options.split(" ").includes(kind);
        options.hidden = !relevant;
        options.querySelectorAll("textarea, input").forEach((field) => { field.disabled = !relevant; });
      });
    });
  }

  function renumber(form) {
    form.querySelectorAll("[data-sections] > [data-section]").forEach((section, s) => {
      section.querySelector("[data-section-number]").textContent = String(s + 1);
      section.querySelectorAll("[data-section-field]").forEach((field) => {
        field.name = `sections.${s}.${field.dataset.sectionField}`;
      });
      section.querySelectorAll("[data-questions] > [data-question]").forEach((question, q) => {
        question.querySelector("[data-question-number]").textContent = String(q + 1);
        question.querySelectorAll("[data-field]").forEach((field) => {
          field.name = `sections.${s}.questions.${q}.${field.dataset.field}`;
        });
      });
    });
    form.querySelectorAll("[data-consents] > [data-consent]").forEach((consent, k) => {
      consent.querySelector("[data-consent-number]").textContent = String(k + 1);
      consent.querySelectorAll("[data-consent-field]").forEach((field) => {
        field.name = `consent_documents.${k}.${field.dataset.consentField}`;
      });
    });
  }

  function move(item, step) {
    if (!item) return;
    const sibling = step < 0 ? item.previousElementSibling : item.nextElementSibling;
    if (!sibling || sibling.tagName === "TEMPLATE") return;
    if (step < 0) item.parentNode.insertBefore(item, sibling);
    else item.parentNode.insertBefore(sibling, item);
  }

  function itemOf(button) {
    return button.closest("[data-question]") || button.closest("[data-consent]") || button.closest("[data-section]");
  }

  function focusFirst(item) {
    const field = item.querySelector("input:not([type=checkbox]), textarea");
    if (field) field.focus();
  }

  function act(form, button) {
    const tool = button.dataset.builder;
    let added = null;
    if (tool === "add_section") {
      added = fromTemplate(form, "section");
      form.querySelector("[data-sections]").appendChild(added);
    } else if (tool === "add_question") {
      added = fromTemplate(form, "question");
      button.closest("[data-section]").querySelector("[data-questions]").appendChild(added);
    } else if (tool === "add_consent") {
      added = fromTemplate(form, "consent");
      form.querySelector("[data-consents]").appendChild(added);
    } else if (tool === "remove") {
      itemOf(button).remove();
    } else if (tool === "move_up" || tool === "move_down") {
      move(itemOf(button), tool === "move_up" ? -1 : 1);
    } else {
      return false;
    }
    renumber(form);
    syncKinds(form);
    if (added) focusFirst(added);
    return true;
  }

  document.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-builder]");
    const form = button && button.closest("form[data-form-builder]");
    if (form && act(form, button)) event.preventDefault();
  });
  document.addEventListener("change", (event) => {
    const form = event.target.closest("form[data-form-builder]");
    if (form && event.target.matches("[data-question-kind]")) syncKinds(form);
  });
  const start = () => builders().forEach((form) => { renumber(form); syncKinds(form); });
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
