/* Anonymous messages: move focus to a refused form's error summary (or a refused key's),
   so keyboard and screen-reader users land on what to fix. No inline script (CSP). */
(function () {
  "use strict";
  function focusErrors() {
    var summary = document.getElementById("error-summary");
    if (summary) summary.focus();
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", focusErrors);
  } else {
    focusErrors();
  }
})();
