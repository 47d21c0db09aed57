// Reveal buttons on a resident's page: ask the server for the full value (it is logged there)
// and show it in place. Without this script the form posts and the page comes back with it.
(function () {
  "use strict";
  document.querySelectorAll("form[data-reveal]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var field = form.getAttribute("data-reveal");
      var button = form.querySelector("button");
      if (button) { button.disabled = true; }
      fetch(form.action, {
        method: "POST",
        body: new FormData(form),
        credentials: "same-origin",
        headers: { "Accept": "application/json" }
      }).then(function (response) {
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.json();
      }).then(function (data) {
        var target = document.getElementById("value-" + field);
        if (target) {
          target.textContent = data.value;
          target.classList.add("revealed");
        }
        form.remove();
      }).catch(function () {
        // Fall back to the plain form post, which shows the page with the value or the reason.
        form.submit();
      });
    });
  });
})();
