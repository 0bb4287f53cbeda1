/* Small behaviours of the manager pages, kept out of the HTML so the Content-Security-Policy
   can refuse inline scripts and event handlers. Delegated from the document, so content
   htmx swaps in later behaves the same. */
(function () {
  "use strict";

  // <form data-confirm="Delete it?">: ask before submitting.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);

  document.addEventListener("change", function (event) {
    // <select data-autosubmit>: submit its form on change (the language switcher).
    var field = event.target;
    if (field.hasAttribute && field.hasAttribute("data-autosubmit") && field.form) {
      field.form.requestSubmit ? field.form.requestSubmit() : field.form.submit();
    }
  });

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-clear], [data-copy]");
    if (!button) return;
    if (button.hasAttribute("data-clear")) {
      // <button data-clear=".panel">: empty the nearest such container (close a panel).
      var container = button.closest(button.getAttribute("data-clear"));
      if (container) container.replaceChildren();
      return;
    }
    // <button data-copy="field-id" data-done="Copied">: copy that field's text.
    var source = document.getElementById(button.getAttribute("data-copy"));
    var done = function () { button.textContent = button.getAttribute("data-done"); };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(source.value).then(done);
    } else {
      source.select();
      document.execCommand("copy");
      done();
    }
  });
})();
