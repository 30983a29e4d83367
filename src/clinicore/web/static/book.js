// The client booking widget: the visitor's own time zone, choices that apply as they change, and the
// page's height told to the embedding page (book-embed.js) so that its iframe fits without a scroll bar.
(function () {
  "use strict";
  var choices = document.getElementById("choices");
  if (choices) {
    var zoneInput = choices.querySelector("input[name=tz]");
    var params = new URLSearchParams(window.location.search);
    var detected = "";
    try { detected = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { detected = ""; }
    if (zoneInput && detected && !params.has("tz")) {
      zoneInput.value = detected;
      // The slots already shown are in the practice's zone: show them again in the visitor's.
      if (params.has("day") && params.has("service")) {
        params.set("tz", detected);
        window.location.replace(window.location.pathname + "?" + params.toString());
        return;
      }
    }
    if (zoneInput && typeof Intl.supportedValuesOf === "function") {
      var list = document.createElement("datalist");
      list.id = "time-zones";
      Intl.supportedValuesOf("timeZone").forEach(function (zone) {
        var option = document.createElement("option");
        option.value = zone;
        list.appendChild(option);
      });
      choices.appendChild(list);
    }
    choices.querySelectorAll("select, input[type=date]").forEach(function (field) {
      field.addEventListener("change", function () {
        if (choices.querySelector("select[name=service]").value && choices.querySelector("input[name=day]").value) {
          choices.submit();
        }
      });
    });
  }
  function tellHeight() {
    if (window.parent !== window) {
      window.parent.postMessage({ type: "clinicore-book-height", height: document.documentElement.scrollHeight }, "*");
    }
  }
  window.addEventListener("load", tellHeight);
  window.addEventListener("resize", tellHeight);
  if (typeof ResizeObserver === "function") { new ResizeObserver(tellHeight).observe(document.body); }
})();
