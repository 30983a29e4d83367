// Iframe mode: a parent page allowed to embed the console (the partner's frame origins, written on this
// script's tag) ends the console session with postMessage("iq_logout", ...). Other origins are ignored.
(() => {
  const script = document.currentScript;
  const allowed = new Set((script && script.dataset.parentOrigins || "").split(" ").filter(Boolean));
  allowed.add(window.location.origin);
  let ending = false;

  async function signOut() {
    if (ending) return;
    ending = true;
    const field = document.querySelector('form[action="/logout"] input[name="csrf_token"]');
    if (field) {
      const body = new URLSearchParams({ csrf_token: field.value });
      try {
        await fetch("/logout", { method: "POST", body, credentials: "same-origin", redirect: "manual" });
      } catch (error) {
        // The page below asks the server again: a session that did not end still shows as signed in.
      }
    }
    window.location.replace("/signin/out");
  }

  window.addEventListener("message", (event) => {
    if (event.data === "iq_logout" && allowed.has(event.origin) && event.source === window.parent) {
      signOut();
    }
  });
})();
