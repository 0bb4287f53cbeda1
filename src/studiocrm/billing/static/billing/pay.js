/* The bank-transfer page: copy buttons with feedback, and sharing the details and the
   payment code where the browser can (Web Share API); elsewhere the link downloads them. */
(function () {
  "use strict";
  var status = document.getElementById("copy-status");

  function announce(text) {
    if (!status) return;
    status.textContent = "";
    window.setTimeout(function () { status.textContent = text; }, 30);
  }

  function copyWithSelection(text) {
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    var copied = false;
    try { copied = document.execCommand("copy"); } catch (error) { copied = false; }
    document.body.removeChild(area);
    return copied;
  }

  function copy(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text).then(
        function () { return true; },
        function () { return copyWithSelection(text); }
      );
    }
    return Promise.resolve(copyWithSelection(text));
  }

  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    var label = button.querySelector(".copy-label");
    var idle = label.textContent;
    var timer = null;
    button.hidden = false;
    button.addEventListener("click", function () {
      copy(button.getAttribute("data-copy")).then(function (copied) {
        label.textContent = button.getAttribute(copied ? "data-done" : "data-failed");
        button.classList.toggle("copied", copied);
        announce(button.getAttribute(copied ? "data-announce" : "data-failed"));
        window.clearTimeout(timer);
        timer = window.setTimeout(function () {
          label.textContent = idle;
          button.classList.remove("copied");
        }, 2500);
      });
    });
  });

  var share = document.querySelector("[data-share]");
  if (!share || !navigator.share) return;
  var data = { title: share.getAttribute("data-title"), text: share.getAttribute("data-text") };
  var withCode = null;
  var png = share.getAttribute("data-png");
  // Fetched ahead: the browser allows sharing only right after the click.
  if (png && navigator.canShare && window.File) {
    fetch(png).then(function (response) { return response.ok ? response.blob() : null; })
      .then(function (blob) {
        if (!blob) return;
        var file = new File([blob], share.getAttribute("data-filename"), { type: "image/png" });
        var candidate = { title: data.title, text: data.text, files: [file] };
        if (navigator.canShare(candidate)) withCode = candidate;
      })
      .catch(function () { withCode = null; });
  }
  share.addEventListener("click", function (event) {
    event.preventDefault();
    navigator.share(withCode || data).catch(function (error) {
      // Closing the share sheet is not a failure; anything else falls back to the file.
      if (!error || error.name !== "AbortError") window.location.href = share.href;
    });
  });
})();
