/* Drag and drop of brief template questions; posts the new order, keeps the page honest if
   the server refuses (a show-if condition may only refer to an earlier question). */
(function () {
  "use strict";
  var root = document.getElementById("template-structure");
  if (!root || typeof Sortable === "undefined") { return; }
  var status = document.getElementById("reorder-status");

  function order() {
    var result = [];
    root.querySelectorAll(".question-list").forEach(function (list) {
      list.querySelectorAll(".question-item").forEach(function (item) {
        result.push([Number(item.getAttribute("data-question")), Number(list.getAttribute("data-section"))]);
      });
    });
    return result;
  }

  function save() {
    var body = new URLSearchParams();
    body.set("order", JSON.stringify(order()));
    status.textContent = "…";
    fetch(root.getAttribute("data-reorder-url"), {
      method: "POST",
      headers: { "X-CSRFToken": root.getAttribute("data-csrf") },
      body: body,
      credentials: "same-origin"
    }).then(function (response) {
      return response.text().then(function (text) {
        status.textContent = text;
        if (!response.ok) { status.className = "error"; window.setTimeout(function () { window.location.reload(); }, 2500); }
        else { status.className = "muted"; }
      });
    }).catch(function () { window.location.reload(); });
  }

  root.querySelectorAll(".question-list").forEach(function (list) {
    Sortable.create(list, { group: "questions", handle: ".drag-handle", animation: 120, onEnd: save });
  });
})();
