// The patrol page: each item is saved as it is marked, without leaving the page.
//
// Forms marked data-async are sent with fetch (the CSRF token in a header and in the form);
// the server answers with the item's fragment, which replaces the item. Without this script
// the same forms post normally and the page comes back at the item. The position is asked for
// only after a tap on "Add my position" and is never required.
(function () {
  "use strict";

  function csrfToken(form) {
    var input = form.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function replaceItem(item, html, focusValue) {
    var holder = document.createElement("div");
    holder.innerHTML = html.trim();
    var fresh = holder.firstElementChild;
    if (!fresh) { return; }
    item.replaceWith(fresh);
    showLocateButtons(fresh);
    updateTally();
    var target = focusValue ? fresh.querySelector('button[name="outcome"][value="' + focusValue + '"]') : null;
    if (!target && fresh.querySelector(".has-error")) { target = fresh.querySelector(".has-error input, .has-error textarea, .has-error select"); }
    if (target) { target.focus({ preventScroll: true }); }
  }

  // "3 of 19 items marked", counted again after each mark.
  function updateTally() {
    var tally = document.querySelector("[data-testid=patrol-tally][data-template]");
    if (!tally) { return; }
    var items = document.querySelectorAll(".patrol-items > [data-item]");
    var marked = document.querySelectorAll(".patrol-items > [data-item][class*=outcome-]");
    tally.textContent = tally.getAttribute("data-template")
      .replace("__MARKED__", String(marked.length)).replace("__TOTAL__", String(items.length));
  }

  // Messages in the page's language, from the list's data attributes.
  function message(name) {
    var holder = document.querySelector("[" + name + "]");
    return holder ? holder.getAttribute(name) : "";
  }

  function showProblem(item, text) {
    var note = item.querySelector(".item-note");
    if (!note) {
      note = document.createElement("p");
      note.className = "item-note error";
      note.setAttribute("role", "status");
      item.appendChild(note);
    }
    note.className = "item-note error";
    note.textContent = text;
  }

  // Capture phase, so this runs before portal.js's "send once" guard and the item's own
  // buttons stay usable for a correction right after a tap.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-async") || !window.fetch) { return; }
    event.preventDefault();
    event.stopPropagation();
    var item = form.closest("[data-item]");
    if (!item || item.getAttribute("aria-busy") === "true") { return; }
    var data = new FormData(form);
    var submitter = event.submitter;
    if (submitter && submitter.name) { data.set(submitter.name, submitter.value); }
    item.setAttribute("aria-busy", "true");
    item.classList.add("saving");
    fetch(form.action, {
      method: "POST",
      body: data,
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(form), "X-Requested-With": "fetch" }
    }).then(function (response) {
      return response.text().then(function (html) {
        var isFragment = (response.headers.get("Content-Type") || "").indexOf("text/html") === 0 && html.trim().indexOf("<li") === 0;
        if (isFragment) {
          replaceItem(item, html, submitter && submitter.name === "outcome" ? submitter.value : null);
        } else {
          item.removeAttribute("aria-busy");
          item.classList.remove("saving");
          showProblem(item, message("data-save-failed"));
        }
      });
    }).catch(function () {
      item.removeAttribute("aria-busy");
      item.classList.remove("saving");
      showProblem(item, message("data-offline"));
    });
  }, true);

  // 不合格 on an item not failed yet asks for the one line that titles the finding first; the
  // line's own button sends the fail with it. Without this script the fail is saved at once and
  // the details form that follows asks for the line.
  document.addEventListener("click", function (event) {
    var target = event.target.closest ? event.target : null;
    if (!target) { return; }
    var fail = target.closest('button[name="outcome"][value="fail"]:not([data-fail-save])');
    var cancel = target.closest("[data-fail-cancel]");
    var form = (fail || cancel) ? (fail || cancel).closest("form") : null;
    var line = form ? form.querySelector("[data-fail-line]") : null;
    if (!line) { return; }
    if (cancel) { line.hidden = true; return; }
    event.preventDefault();
    line.hidden = false;
    line.querySelector("input").focus();
  });

  // An empty line is asked for again (the no-script path still accepts a fail without one).
  document.addEventListener("click", function (event) {
    var save = event.target.closest ? event.target.closest("[data-fail-save]") : null;
    if (!save) { return; }
    var input = save.closest("[data-fail-line]").querySelector("input");
    if (!input.value.trim()) {
      event.preventDefault();
      input.focus();
    }
  });

  // 结束巡查 with items left asks first (the server asks too, without this script).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-end-patrol")) { return; }
    var left = document.querySelectorAll(".patrol-items > [data-item]:not([class*=outcome-])").length;
    var confirmField = form.querySelector('input[name="confirm"]');
    if (left === 0) { return; }
    var question = (form.getAttribute("data-confirm-template") || "").replace("__LEFT__", String(left));
    if (window.confirm(question)) {
      if (confirmField) { confirmField.value = "1"; }
    } else {
      event.preventDefault();
      event.stopPropagation();
    }
  }, true);

  function showLocateButtons(root) {
    if (!("geolocation" in navigator)) { return; }
    root.querySelectorAll("[data-locate]").forEach(function (button) { button.hidden = false; });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-locate]") : null;
    if (!button) { return; }
    var form = button.form || button.closest("form");
    var status = form.querySelector(".locate-status");
    var say = function (key) { if (status) { status.textContent = button.getAttribute(key) || ""; } };
    if (!("geolocation" in navigator)) { say("data-unsupported"); return; }
    say("data-locating");
    button.disabled = true;
    navigator.geolocation.getCurrentPosition(function (position) {
      var latitude = form.querySelector('input[name$="latitude"]');
      var longitude = form.querySelector('input[name$="longitude"]');
      if (latitude && longitude) {
        latitude.value = position.coords.latitude.toFixed(6);
        longitude.value = position.coords.longitude.toFixed(6);
      }
      button.disabled = false;
      say("data-done");
    }, function () {
      button.disabled = false;
      say("data-failed");
    }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
  });

  showLocateButtons(document);
})();
