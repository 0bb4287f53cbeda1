// Letters editor: a placeholder button puts {{ name }} where the cursor is in the letter.
(() => {
  let last = null;
  document.addEventListener("focusin", (event) => {
    if (event.target.matches("#letter-form textarea, #letter-form input[type=text]")) last = event.target;
  });
  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-insert]");
    if (!button) return;
    const field = last || document.querySelector("#letter-form textarea");
    if (!field) return;
    const text = "{{ " + button.dataset.insert + " }}";
    const start = field.selectionStart ?? field.value.length;
    const end = field.selectionEnd ?? field.value.length;
    field.value = field.value.slice(0, start) + text + field.value.slice(end);
    field.focus();
    field.selectionStart = field.selectionEnd = start + text.length;
    field.dispatchEvent(new Event("input", { bubbles: true }));
  });
})();
