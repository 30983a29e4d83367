// Embeds a practice's booking page in any site:
//   <script src="https://<clinicore host>/static/book-embed.js" data-practice="<practice id>" async></script>
// The script puts an iframe of https://<clinicore host>/book/<practice id> where the script tag stands
// (or inside the element named by data-target="<element id>") and grows it to the page's height.
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script) { return; }
  var practice = script.getAttribute("data-practice") || "";
  if (!/^[0-9A-Fa-f]{8}$/.test(practice)) { return; }
  var origin = new URL(script.src, window.location.href).origin;
  var frame = document.createElement("iframe");
  frame.src = origin + "/book/" + practice.toUpperCase();
  frame.title = script.getAttribute("data-title") || "Book an appointment";
  frame.setAttribute("referrerpolicy", "no-referrer");
  frame.style.width = "100%";
  frame.style.maxWidth = script.getAttribute("data-max-width") || "40rem";
  frame.style.minHeight = "32rem";
  frame.style.border = "0";
  var target = script.getAttribute("data-target");
  var host = target ? document.getElementById(target) : null;
  if (host) { host.appendChild(frame); } else { script.parentNode.insertBefore(frame, script.nextSibling); }
  window.addEventListener("message", function (event) {
    if (event.origin !== origin || event.source !== frame.contentWindow) { return; }
    var data = event.data;
    if (data && data.type === "clinicore-book-height" && typeof data.height === "number") {
      frame.style.height = Math.min(Math.max(data.height, 200), 10000) + "px";
    }
  });
})();
