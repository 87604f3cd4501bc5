/* Outreach form: the follow-up note shows only when a follow-up is needed. The search-as-you-type
 * pickers of its officers, partners and issues are static/js/picker.js. */
(function () {
  "use strict";

  /* Follow-up note only matters when a follow-up is needed. */
  function wireFollowUp() {
    var box = document.getElementById("id_follow_up_needed");
    var note = document.getElementById("field-follow_up_note");
    if (!box || !note) return;
    function show() { note.hidden = !box.checked; }
    box.addEventListener("change", show);
    show();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", wireFollowUp);
  else wireFollowUp();
})();
