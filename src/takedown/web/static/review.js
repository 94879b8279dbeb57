// Keyboard-first reviewing. Shortcuts never fire while typing in a field (except Escape).
(function () {
  "use strict";
  const page = document.body.dataset.page;
  const help = document.getElementById("help");

  function typing(target) {
    return target && (target.isContentEditable ||
      ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName));
  }

  function toggleHelp() {
    if (!help) return;
    if (help.open) help.close(); else help.showModal();
  }
  document.querySelectorAll("[data-help]").forEach((b) => b.addEventListener("click", toggleHelp));

  // Media: blurred and greyscale until revealed.
  function toggleMedia() {
    document.querySelectorAll("[data-media]").forEach((m) => m.classList.toggle("revealed"));
  }
  document.querySelectorAll("[data-reveal]").forEach((b) => b.addEventListener("click", toggleMedia));
  document.querySelectorAll("[data-media] img, [data-media] video").forEach((m) =>
    m.addEventListener("click", toggleMedia));

  // Queue: j/k move the selection, o/Enter open, x select for bulk.
  const rows = Array.from(document.querySelectorAll("table.queue tbody tr[data-href]"));
  let current = rows.length ? 0 : -1;
  function select(i) {
    if (!rows.length) return;
    current = Math.max(0, Math.min(rows.length - 1, i));
    rows.forEach((r, n) => r.classList.toggle("selected", n === current));
    rows[current].scrollIntoView({ block: "nearest" });
  }
  rows.forEach((row, n) => row.addEventListener("click", (event) => {
    if (event.target.tagName === "INPUT" || event.target.tagName === "A") return;
    select(n);
    window.location.href = row.dataset.href;
  }));
  if (rows.length) select(0);

  // Case: r/t/s/n/e pick the action, 0-8 the label, then the reason field takes focus.
  function pick(key) {
    const radio = document.querySelector(`form.decide input[type=radio][data-key="${key}"]`);
    if (!radio) return false;
    radio.checked = true;
    const label = document.getElementById("label");
    if (label && radio.value === "none" && !["TVEC0", "TVEC.01"].includes(label.value)) {
      label.value = "TVEC0";
    }
    const reason = radio.form.querySelector("input[name=reason]");
    if (reason) reason.focus();
    return true;
  }

  function follow(key) {
    const link = document.querySelector(`a[data-key="${key}"]`);
    if (link) { window.location.href = link.href; return true; }
    return false;
  }

  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      if (help && help.open) help.close();
      if (typing(event.target)) event.target.blur();
      return;
    }
    if (typing(event.target) || event.ctrlKey || event.metaKey || event.altKey) return;
    const key = event.key;
    let handled = true;
    if (key === "?") toggleHelp();
    else if (key === "a" && page !== "login") window.location.href = "/review/appeals";
    else if (page === "queue" || page === "appeals") {
      if (key === "j") select(current + 1);
      else if (key === "k") select(current - 1);
      else if ((key === "o" || key === "Enter") && current >= 0) {
        window.location.href = rows[current].dataset.href;
      } else if (key === "x" && current >= 0) {
        const box = rows[current].querySelector("input[type=checkbox]");
        if (box) box.checked = !box.checked;
      } else if (key === "b" && document.querySelector(".bulkbar input[name=reason]")) {
        document.querySelector(".bulkbar input[name=reason]").focus();
      } else handled = false;
    } else if (page === "case") {
      if (key === "v") toggleMedia();
      else if (/^[0-8]$/.test(key) && document.getElementById("label")) {
        document.getElementById("label").value = "TVEC" + key;
      } else if (!pick(key) && !follow(key)) handled = false;
    } else handled = false;
    if (handled) event.preventDefault();
  });
})();

// Removal orders above the queue: count each running clock down once a second.
(function () {
  const items = Array.from(document.querySelectorAll("section.orders li[data-remaining]"))
    .filter((li) => li.dataset.remaining !== "");
  if (!items.length) return;
  const started = Date.now();
  const mmss = (s) => Math.floor(Math.abs(s) / 60) + ":" + String(Math.abs(s) % 60).padStart(2, "0");
  setInterval(() => {
    const elapsed = Math.floor((Date.now() - started) / 1000);
    for (const li of items) {
      const left = parseInt(li.dataset.remaining, 10) - elapsed;
      const clock = li.querySelector(".clock");
      if (clock) clock.textContent = left >= 0 ? mmss(left) + " left" : "overdue by " + mmss(left);
      li.classList.toggle("overdue", left < 0);
    }
  }, 1000);
})();
