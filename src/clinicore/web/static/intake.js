// The intake form page (web/intake): signatures drawn on a canvas with mouse, touch or pen (pointer
// events), and progress (answers and consent signatures: the whole form) saved automatically a moment
// after each change. Everything also works as plain form posts; this script only adds drawing and saving
// in the background.
(function () {
  "use strict";
  var form = document.getElementById("intake-form");
  if (!form) { return; }
  var saveUrl = form.getAttribute("data-save-url");
  var status = form.querySelector(".save-status");
  var timer = null;
  var saving = false;
  var again = false;
  var afterSave = null;  // a submit clicked while a save was on its way: sent once the save is done

  function field(name) { return form.querySelector('input[name="' + name + '"]'); }

  function say(text) { if (status) { status.textContent = text; } }

  function showFile(questionId, text) {
    var line = form.querySelector('[data-file-name="' + questionId + '"]');
    if (line) { line.textContent = text; }
  }

  // The server's message next to the question (or consent document) it refused.
  function mark(itemId, text) {
    var box = document.getElementById("question-" + itemId) || document.getElementById("consent-" + itemId);
    if (!box) { return; }
    box.classList.add("has-error");
    var message = box.querySelector(".field-error");
    if (!message) {
      message = document.createElement("p");
      message.className = "field-error";
      message.setAttribute("role", "alert");
      box.appendChild(message);
    }
    message.classList.remove("answered");
    message.textContent = text;
  }

  function save() {
    if (saving) { again = true; return; }
    saving = true;
    var body = new FormData(form);
    var sentSignatures = {};
    body.forEach(function (value, name) {
      if (name.indexOf("signature_") === 0 && value) { sentSignatures[name] = value; }
    });
    say("Saving…");
    fetch(saveUrl, {
      method: "POST", body: body, credentials: "same-origin", headers: { "X-Requested-With": "intake.js" }
    }).then(function (response) {
      if ((response.headers.get("Content-Type") || "").indexOf("application/json") !== 0) {
        var reason = response.status === 413 ? "the file is larger than the upload limit." : "try again.";
        return { status: response.status, data: { saved: false, error: reason } };
      }
      return response.json().then(function (data) { return { status: response.status, data: data }; });
    }).then(function (result) {
      var data = result.data;
      if (data.reload) { window.location.reload(); return; }
      Object.keys(data.files || {}).forEach(function (questionId) {
        var stored = data.files[questionId];
        var kept = field("file_" + questionId);
        if (kept) { kept.value = stored.id; }
        var upload = field("upload_" + questionId);
        if (upload) { upload.value = ""; showFile(questionId, "Uploaded: " + stored.name); }
        var drawn = field("signature_" + questionId);
        if (drawn && drawn.value === sentSignatures["signature_" + questionId]) {
          drawn.value = "";
          showFile(questionId, "Your signature is saved. Draw again to replace it.");
        }
      });
      var marked = Object.keys(data.errors || {});
      marked.forEach(function (itemId) { mark(itemId, data.errors[itemId]); });
      if (data.saved) {
        say("Progress saved.");
      } else {
        say(marked.length ? "Not saved: correct the marked answer." : "Not saved: " + (data.error || "try again."));
      }
    }).catch(function () {
      say("Not saved: check your connection. Your answers stay on this page.");
    }).then(function () {
      saving = false;
      if (afterSave) {
        var send = afterSave;
        afterSave = null;
        again = false;
        send();
      } else if (again) {
        again = false;
        save();
      }
    });
  }

  function saveSoon() {
    if (timer) { clearTimeout(timer); }
    timer = setTimeout(save, 800);
  }

  // A question changed since the server marked it: its mark is hidden until the next check, without
  // moving anything on the page (the client may be clicking next to it).
  form.addEventListener("change", function (event) {
    var marked = event.target.closest ? event.target.closest(".has-error") : null;
    if (marked) {
      marked.classList.remove("has-error");
      var message = marked.querySelector(".field-error");
      if (message) { message.classList.add("answered"); }
    }
    saveSoon();
  });
  // Submitting (or "Save progress") sends the whole form itself: no background save runs beside it.
  form.addEventListener("submit", function (event) {
    if (timer) { clearTimeout(timer); timer = null; }
    if (saving) {
      event.preventDefault();
      var submitter = event.submitter || null;
      afterSave = function () { form.requestSubmit(submitter); };
      say("Saving…");
    }
  });

  Array.prototype.forEach.call(form.querySelectorAll("[data-signature]"), function (box) {
    var questionId = box.getAttribute("data-signature");
    var canvas = box.querySelector("canvas");
    var context = canvas.getContext("2d");
    var drawing = false;
    var last = null;
    context.lineWidth = 3;
    context.lineCap = "round";
    context.lineJoin = "round";
    context.strokeStyle = "#111";

    function point(event) {
      var rect = canvas.getBoundingClientRect();
      return {
        x: (event.clientX - rect.left) * (canvas.width / rect.width),
        y: (event.clientY - rect.top) * (canvas.height / rect.height)
      };
    }

    canvas.addEventListener("pointerdown", function (event) {
      drawing = true;
      last = point(event);
      if (canvas.setPointerCapture) { canvas.setPointerCapture(event.pointerId); }
      context.beginPath();
      context.arc(last.x, last.y, context.lineWidth / 2, 0, Math.PI * 2);
      context.fillStyle = context.strokeStyle;
      context.fill();
      event.preventDefault();
    });
    canvas.addEventListener("pointermove", function (event) {
      if (!drawing) { return; }
      var next = point(event);
      context.beginPath();
      context.moveTo(last.x, last.y);
      context.lineTo(next.x, next.y);
      context.stroke();
      last = next;
      event.preventDefault();
    });
    function finish() {
      if (!drawing) { return; }
      drawing = false;
      field("signature_" + questionId).value = canvas.toDataURL("image/png");
      showFile(questionId, "Signature drawn.");
      saveSoon();
    }
    canvas.addEventListener("pointerup", finish);
    canvas.addEventListener("pointercancel", finish);

    box.querySelector("[data-clear-signature]").addEventListener("click", function () {
      context.clearRect(0, 0, canvas.width, canvas.height);
      field("signature_" + questionId).value = "";
      field("file_" + questionId).value = "";
      showFile(questionId, "");
      saveSoon();
    });
  });
})();
