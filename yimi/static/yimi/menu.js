// The phone menu: the top bar's links fold behind one button on small screens (see yimi.css).
(function () {
  var nav = document.getElementById("topnav");
  var button = document.querySelector(".menu-toggle");
  if (!nav || !button) return;
  // One link only (the public map): nothing to fold.
  if (nav.querySelectorAll("a").length < 2) return;
  document.documentElement.classList.add("js");
  button.hidden = false;
  button.addEventListener("click", function () {
    var open = nav.classList.toggle("open");
    button.setAttribute("aria-expanded", open ? "true" : "false");
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && nav.classList.contains("open")) {
      nav.classList.remove("open");
      button.setAttribute("aria-expanded", "false");
      button.focus();
    }
  });
})();
