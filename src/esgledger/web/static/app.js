// Behaviour shared by the pages, without inline script (the Content-Security-Policy allows
// scripts from this origin only): "back" links, and the survey form's rule that a positive
// impact asks no irremediability.
(function () {
  "use strict";

  function backLinks() {
    document.querySelectorAll("a[data-back]").forEach(function (link) {
      link.addEventListener("click", function (event) {
        if (window.history.length > 1) {
          event.preventDefault();
          window.history.back();
        }
      });
    });
  }

  function surveyPositive() {
    document.querySelectorAll("#survey-topics input.positive").forEach(function (box) {
      box.addEventListener("change", function () {
        var select = box.closest("tr").querySelector("select.irremediability");
        if (select) {
          select.disabled = box.checked;
          if (box.checked) {
            select.value = "";
          }
        }
      });
    });
  }

  function start() {
    backLinks();
    surveyPositive();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
