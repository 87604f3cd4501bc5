/* "Use a response template" on the issue page: choosing one fills the text field it names with
   the template's text, already rendered by the server in the reporting language (a JSON
   script element beside the select). A note filled from a template is meant for residents, so
   the note form's visibility turns to public; the officer can still change it and edit the text.
   Without this script the server uses the chosen template's text when the field is left empty.
   Delegated from the document: htmx swaps the forms in and out. */
(function () {
  "use strict";

  document.addEventListener("change", function (event) {
    var select = event.target;
    if (!select.matches || !select.matches("select[data-template-fill]")) return;
    var target = document.getElementById(select.dataset.templateFill);
    var source = document.getElementById(select.dataset.templateTexts);
    if (!target || !source || !select.value) return;
    var texts = JSON.parse(source.textContent);
    if (!Object.prototype.hasOwnProperty.call(texts, select.value)) return;
    target.value = texts[select.value];
    target.dispatchEvent(new Event("input", { bubbles: true }));
    var publicChoice = select.form && select.form.querySelector('input[name="visibility"][value="public"]');
    if (publicChoice) publicChoice.checked = true;
  });
})();
