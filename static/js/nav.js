/* The staff navigation folds behind a menu button on narrow screens (WCAG 1.4.10 reflow: the links
   took a third of a phone's screen). Without JavaScript the button stays hidden and the links shown. */
(function () {
  "use strict";
  var button = document.querySelector(".nav-toggle");
  var header = document.querySelector(".site-header");
  if (!button || !header) return;
  var narrow = window.matchMedia("(max-width: 799px)");

  function setOpen(open) {
    button.setAttribute("aria-expanded", open ? "true" : "false");
    header.classList.toggle("nav-closed", !open);
  }

  button.hidden = false;
  header.classList.add("nav-folds");
  setOpen(!narrow.matches);
  button.addEventListener("click", function () {
    setOpen(button.getAttribute("aria-expanded") !== "true");
  });
  // Escape closes an open menu and gives the focus back to its button.
  header.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && narrow.matches && button.getAttribute("aria-expanded") === "true") {
      setOpen(false);
      button.focus();
    }
  });
  // Turning a tablet or widening a window shows the links again; narrowing folds them.
  narrow.addEventListener("change", function () { setOpen(!narrow.matches); });
})();
