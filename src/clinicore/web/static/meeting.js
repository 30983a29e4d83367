// The waiting room asks the meeting's status every few seconds and moves on by itself once the visit is
// decided (to the clinic's redirect, or our result page) or no longer waiting.
(() => {
  const room = document.querySelector("[data-status-url]");
  if (!room) return;
  const url = room.dataset.statusUrl;
  const every = Math.max(1, Number(room.dataset.pollSeconds) || 3) * 1000;
  const message = room.querySelector("[data-role=message]");
  const place = room.querySelector("[data-role=place]");
  async function poll() {
    try {
      const response = await fetch(url, { cache: "no-store", headers: { Accept: "application/json" } });
      if (response.ok) {
        const status = await response.json();
        if (status.redirect) {
          window.location.assign(status.redirect);
          return;
        }
        if (status.provider_joined) {
          message.textContent = "Your provider has joined and is reviewing your visit.";
          place.hidden = true;
        } else if (status.place) {
          place.querySelector("strong").textContent = status.place;
          place.hidden = false;
        }
      }
    } catch (error) {
      // A network hiccup: try again at the next tick.
    }
    window.setTimeout(poll, every);
  }
  window.setTimeout(poll, every);
})();
