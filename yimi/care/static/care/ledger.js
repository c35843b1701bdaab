// The ledger pages: while a ledger is checked or imported, show a progress state and keep the
// buttons from being pressed twice (the request itself does the work; a large ledger takes
// up to a minute).
document.querySelectorAll("form[data-progress]").forEach(function (form) {
  form.addEventListener("submit", function () {
    var p = form.querySelector(".ledger-progress");
    if (!p) return;
    p.hidden = false;
    p.querySelector("span").textContent = form.dataset.progress;
    form.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
  });
});
