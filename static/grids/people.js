// Reveal buttons on a resident's page: the button opens a short form asking why (a reason, and a
// few words for "other"); the script asks the server for the full value (it checks the reason and
// logs it there) and shows it in place, or shows the server's refusal next to the form.
// Without this script the form posts and the page comes back with the value or the refusal.
(function () {
  "use strict";
  document.querySelectorAll("form[data-reveal]").forEach(function (form) {
    var error = form.querySelector("[data-reveal-error]");
    function showError(message, fieldName) {
      if (error) {
        error.textContent = message;
        error.hidden = false;
      }
      var input = fieldName ? form.querySelector("[name=" + fieldName + "]") : null;
      if (input) { input.focus(); }
    }
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var field = form.getAttribute("data-reveal");
      var button = form.querySelector("button[type=submit]");
      if (button) { button.disabled = true; }
      fetch(form.action, {
        method: "POST",
        body: new FormData(form),
        credentials: "same-origin",
        headers: { "Accept": "application/json" }
      }).then(function (response) {
        if (response.status === 400) {
          return response.json().then(function (refusal) {
            if (button) { button.disabled = false; }
            showError(refusal.detail, refusal.field);
            return null;
          });
        }
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.json();
      }).then(function (data) {
        if (data === null) { return; }
        var target = document.getElementById("value-" + field);
        if (target) {
          target.textContent = "";
          if (field === "mobile" && /^[0-9+\-]+$/.test(data.value || "")) {
            // A number shown to a worker on the phone is one tap from a call.
            var call = document.createElement("a");
            call.href = "tel:" + data.value;
            call.textContent = data.value;
            call.setAttribute("data-testid", "mobile-call");
            target.appendChild(call);
          } else {
            target.textContent = data.value;
          }
          target.classList.add("revealed");
        }
        var box = form.closest("[data-reveal-box]") || form;
        box.remove();
      }).catch(function () {
        // Fall back to the plain form post, which shows the page with the value or the reason.
        form.submit();
      });
    });
  });
})();
