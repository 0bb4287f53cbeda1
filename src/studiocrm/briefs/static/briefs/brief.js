/* The client's brief form: show-if visibility while typing, "Other" convenience. The server
   decides again on every save and on submit; this only keeps the page in step meanwhile. */
(function () {
  "use strict";
  var form = document.getElementById("brief-form");
  if (!form) { return; }

  function valuesOf(block) {
    var key = block.getAttribute("data-key");
    var values = [];
    form.querySelectorAll('[name="q_' + key + '"]').forEach(function (input) {
      if (input.type === "checkbox" || input.type === "radio") {
        if (input.checked) { values.push(input.value); }
      } else if (input.value.trim()) {
        values.push(input.value.trim());
      }
    });
    return values;
  }

  function refresh() {
    var state = {};
    form.querySelectorAll(".question").forEach(function (block) {
      var parentKey = block.getAttribute("data-show-if-key");
      var visible = true;
      if (parentKey) {
        var parent = state[parentKey];
        visible = Boolean(parent && parent.visible &&
          parent.values.indexOf(block.getAttribute("data-show-if-equals")) !== -1);
      }
      block.hidden = !visible;
      state[block.getAttribute("data-key")] = { visible: visible, values: valuesOf(block) };
    });
  }

  form.addEventListener("change", refresh);
  form.addEventListener("input", function (event) {
    var target = event.target;
    if (target.hasAttribute && target.hasAttribute("data-other-text") && target.value.trim()) {
      var box = target.closest(".choices").querySelector("[data-other-box]");
      if (box && !box.checked) { box.checked = true; }
    }
    refresh();
  });
  form.addEventListener("submit", function () {
    var button = form.querySelector("button[type=submit]");
    if (button) { setTimeout(function () { button.disabled = true; }, 0); }
  });
  // A save that never reached the server must not look saved.
  function offline(event) {
    var target = event.detail && event.detail.target;
    if (target && target.classList && target.classList.contains("q-status")) {
      var note = document.createElement("span");
      note.className = "error";
      note.setAttribute("role", "alert");
      note.textContent = form.getAttribute("data-offline-message");
      target.replaceChildren(note);
    }
  }
  document.body.addEventListener("htmx:sendError", offline);
  document.body.addEventListener("htmx:timeout", offline);

  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }
})();
