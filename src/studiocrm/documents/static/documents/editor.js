// Copy a client link to the clipboard: <button data-copy="#input-id">.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-copy]");
  if (!button) return;
  const input = document.querySelector(button.dataset.copy);
  if (!input) return;
  input.select();
  const done = () => { const label = button.textContent; button.textContent = "✓"; setTimeout(() => { button.textContent = label; }, 1500); };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(input.value).then(done, () => { document.execCommand("copy"); done(); });
  } else {
    document.execCommand("copy");
    done();
  }
});

// The template editor: line numbers, the cursor's line and column, placeholders inserted at
// the cursor, the problem line marked, progress of the live preview (htmx does the request).
(() => {
  const editor = document.querySelector("[data-code-editor]");
  if (!editor) return;
  const source = editor.querySelector("textarea");
  const numbers = editor.querySelector("[data-line-numbers]");
  const mark = editor.querySelector("[data-line-mark]");
  const cursor = document.getElementById("cursor-position");
  const progress = document.getElementById("preview-progress");
  const insertStatus = document.getElementById("insert-status");
  let markedLine = 0;
  let lineCount = 0;

  const lineHeight = () => parseFloat(getComputedStyle(source).lineHeight) || 19;
  const paddingTop = () => parseFloat(getComputedStyle(source).paddingTop) || 0;

  function renumber() {
    const count = source.value.split("\n").length;
    if (count !== lineCount) {
      lineCount = count;
      const lines = [];
      for (let index = 1; index <= count; index += 1) lines.push(index);
      numbers.textContent = lines.join("\n");
    }
    follow();
  }

  function follow() {
    numbers.style.transform = `translateY(${-source.scrollTop}px)`;
    if (markedLine) {
      mark.style.top = `${paddingTop() + (markedLine - 1) * lineHeight() - source.scrollTop}px`;
      mark.style.height = `${lineHeight()}px`;
    }
  }

  function showCursor() {
    if (!cursor) return;
    const before = source.value.slice(0, source.selectionStart);
    const line = before.split("\n").length;
    const column = before.length - before.lastIndexOf("\n");
    cursor.textContent = cursor.dataset.cursorLabel.replace("{line}", line).replace("{column}", column);
  }

  function markLine(line) {
    markedLine = Number(line) || 0;
    mark.hidden = !markedLine;
    editor.classList.toggle("has-problem", Boolean(markedLine));
    follow();
  }

  function goToLine(line) {
    const lines = source.value.split("\n");
    const number = Math.max(1, Math.min(Number(line) || 1, lines.length));
    const start = lines.slice(0, number - 1).reduce((total, text) => total + text.length + 1, 0);
    source.focus();
    source.setSelectionRange(start, start + lines[number - 1].length);
    const top = (number - 1) * lineHeight();
    if (top < source.scrollTop || top > source.scrollTop + source.clientHeight - 2 * lineHeight()) {
      source.scrollTop = Math.max(0, top - source.clientHeight / 3);
    }
    showCursor();
    follow();
  }

  function insertAtCursor(text) {
    source.focus();
    const start = source.selectionStart;
    const end = source.selectionEnd;
    // execCommand keeps the browser's undo history; setRangeText where it is not supported.
    if (!document.execCommand || !document.execCommand("insertText", false, text)) {
      source.setRangeText(text, start, end, "end");
      source.dispatchEvent(new Event("input", { bubbles: true }));
    }
    const blank = text.indexOf("\n  \n");
    if (blank >= 0) {  // a loop: put the cursor inside it
      const inside = start + blank + 3;
      source.setSelectionRange(inside, inside);
    }
    renumber();
    showCursor();
  }

  source.addEventListener("input", renumber);
  source.addEventListener("scroll", follow);
  ["keyup", "click", "select", "focus"].forEach((name) => source.addEventListener(name, showCursor));
  source.addEventListener("keydown", (event) => {
    // Tab indents inside the editor; Escape then Tab leaves it (keyboard users are not trapped).
    if (event.key === "Tab" && !event.shiftKey && !source.dataset.tabLeaves && !source.readOnly) {
      event.preventDefault();
      insertAtCursor("  ");
    } else if (event.key === "Escape") {
      source.dataset.tabLeaves = "1";
    }
  });
  source.addEventListener("blur", () => { delete source.dataset.tabLeaves; });

  document.addEventListener("click", (event) => {
    const insert = event.target.closest("[data-insert]");
    if (insert) {
      insertAtCursor(insert.dataset.insert);
      if (insertStatus) insertStatus.textContent = insert.getAttribute("aria-label") || "";
      return;
    }
    const goto = event.target.closest("[data-goto-line]");
    if (goto) goToLine(goto.dataset.gotoLine);
  });

  const filter = document.querySelector("[data-placeholder-filter]");
  if (filter) {
    filter.addEventListener("input", () => {
      const words = filter.value.trim().toLowerCase().split(/\s+/).filter(Boolean);
      document.querySelectorAll(".placeholder-list li").forEach((item) => {
        const text = item.dataset.search || "";
        item.hidden = !words.every((word) => text.includes(word));
      });
    });
  }

  function markFromPage() {
    const problem = document.querySelector("#preview[data-problem-line], .source-error[data-problem-line]");
    markLine(problem ? problem.dataset.problemLine : 0);
  }

  const column = document.getElementById("preview-column");
  function say(kind) {
    if (!progress) return;
    progress.textContent = progress.dataset[`${kind}Text`] || "";
    progress.dataset.state = kind;
    if (column) column.setAttribute("aria-busy", kind === "busy" ? "true" : "false");
  }
  document.body.addEventListener("htmx:beforeRequest", (event) => {
    if (event.target.matches("[data-preview-trigger]")) say("busy");
  });
  document.body.addEventListener("htmx:afterRequest", (event) => {
    if (!event.target.matches("[data-preview-trigger]")) return;
    if (event.detail.successful) say("done");
    else if (!event.detail.xhr || event.detail.xhr.status !== 0) say("failed");
  });
  document.body.addEventListener("htmx:afterSwap", (event) => {
    if (event.detail.target && event.detail.target.id === "preview") markFromPage();
  });
  // An aborted request (a newer keystroke replaced it) leaves "updating" on: the next ends it.
  document.body.addEventListener("htmx:sendError", () => say("failed"));

  // On a phone the list would push the preview far down: it starts folded there.
  const reference = document.querySelector("details.reference");
  if (reference && window.matchMedia("(max-width: 1000px)").matches) reference.open = false;

  renumber();
  markFromPage();
})();
