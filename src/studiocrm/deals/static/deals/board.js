/* Pipeline board: drag a card (SortableJS) or use its "Move to…" form; htmx posts the move.
   On refusal the card goes back where it was and the server's message is announced. */
(function () {
  "use strict";

  function init() {
    var board = document.querySelector(".board");
    if (!board || !window.htmx) return;
    var status = document.getElementById("board-status");
    var dialog = document.getElementById("lost-dialog");
    var origins = new WeakMap();

    function say(text, isError) {
      status.textContent = text;
      status.classList.toggle("error", Boolean(isError));
    }

    function listFor(stage) {
      return board.querySelector('.cards[data-stage="' + stage + '"]');
    }

    function restore(card) {
      var origin = origins.get(card);
      if (!origin) return;
      var sibling = origin.list.children[origin.index] || null;
      if (sibling === card) sibling = card.nextElementSibling;
      origin.list.insertBefore(card, sibling);
      syncSelect(card, origin.list.dataset.stage);
      origins.delete(card);
    }

    function syncSelect(card, stage) {
      card.dataset.stage = stage;
      var select = card.querySelector("select[name=stage]");
      if (select) select.value = stage;
    }

    function askReason() {
      return new Promise(function (resolve) {
        if (!dialog || typeof dialog.showModal !== "function") {
          var typed = window.prompt(board.dataset.cancelText);
          resolve(typed && typed.trim() ? { reason: "", comment: typed.trim() } : null);
          return;
        }
        var choice = dialog.querySelector("select");
        var field = dialog.querySelector("textarea");
        field.value = "";
        dialog.returnValue = "";
        dialog.addEventListener(
          "close",
          function () {
            var said = { reason: choice.value, comment: field.value.trim() };
            var given = said.reason || said.comment;
            resolve(dialog.returnValue === "confirm" && given ? said : null);
          },
          { once: true }
        );
        dialog.showModal();
        choice.focus();
      });
    }

    function moveCard(card, stage, origin) {
      origins.set(card, origin);
      var target = listFor(stage);
      if (target && card.parentElement !== target) target.insertBefore(card, target.firstChild);
      var reasonNeeded = stage === board.dataset.lost;
      var reason = reasonNeeded ? askReason() : Promise.resolve({ reason: "", comment: "" });
      reason.then(function (said) {
        if (said === null) {
          restore(card);
          say(board.dataset.cancelText, true);
          return;
        }
        card.classList.add("saving");
        card.dataset.target = stage;
        htmx.ajax("POST", card.dataset.moveUrl, {
          source: card,
          target: card,
          swap: "none",
          values: {
            stage: stage,
            reason: said.reason,
            lost_reason: said.comment,
            scope: board.dataset.scope,
          },
        });
      });
    }

    board.addEventListener("htmx:afterRequest", function (event) {
      var card = event.detail.elt;
      if (!card || !card.classList || !card.classList.contains("deal-card")) return;
      card.classList.remove("saving");
      if (event.detail.successful) {
        var stage = card.dataset.target;
        syncSelect(card, stage);
        origins.delete(card);
        var title = card.querySelector(".deal-card-title").textContent;
        var label = listFor(stage).dataset.label;
        say(board.dataset.movedText.replace("%(title)s", title).replace("%(stage)s", label));
      } else {
        var xhr = event.detail.xhr;
        var text = xhr && xhr.status && xhr.status < 500 && xhr.responseText;
        restore(card);
        say(text || board.dataset.failedText, true);
      }
    });

    board.querySelectorAll(".cards").forEach(function (list) {
      Sortable.create(list, {
        group: "deals",
        sort: false,
        draggable: ".deal-card[data-movable]",
        filter: "summary, select, button, input, label",
        preventOnFilter: false,
        delay: 200,
        delayOnTouchOnly: true,
        animation: 150,
        ghostClass: "drag-ghost",
        chosenClass: "drag-chosen",
        onEnd: function (event) {
          if (event.from === event.to) return;
          moveCard(event.item, event.to.dataset.stage, { list: event.from, index: event.oldIndex });
        },
      });
    });

    // A card's "Move to…" select comes with its own stage only; the others are copied
    // from the one <template> of stages when it opens (smaller board, same choices).
    var stageOptions = document.getElementById("stage-options");
    board.addEventListener(
      "toggle",
      function (event) {
        var details = event.target;
        if (!details.classList || !details.classList.contains("card-move") || !details.open) return;
        var select = details.querySelector("select[name=stage]");
        if (!select || !stageOptions || select.options.length > 1) return;
        select.replaceChildren(stageOptions.content.cloneNode(true));
        select.value = details.closest(".deal-card").dataset.stage;
      },
      true
    );

    board.addEventListener("submit", function (event) {
      var form = event.target;
      if (!form.classList.contains("move-form")) return;
      event.preventDefault();
      var card = form.closest(".deal-card");
      var stage = form.elements.stage.value;
      if (stage === card.dataset.stage) return;
      var list = card.parentElement;
      var index = Array.prototype.indexOf.call(list.children, card);
      form.closest("details").open = false;
      moveCard(card, stage, { list: list, index: index });
      card.querySelector(".deal-card-title").focus();
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
