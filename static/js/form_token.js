// The create forms' one-time token (shanglong.form_tokens) is kept with the history entry:
// when the person goes Back to a form they already sent, the browser may fetch the page anew
// (with a new token); the entry's first token is put back, so sending it again makes nothing
// twice. Opening the form anew (a new history entry) keeps the new token.
(function () {
  "use strict";
  var inputs = document.querySelectorAll("input[name=form_token]");
  if (!inputs.length) {
    return;
  }
  var state = history.state && typeof history.state === "object" ? history.state : {};
  if (state.formToken) {
    inputs.forEach(function (input) {
      input.value = state.formToken;
    });
  } else {
    history.replaceState(Object.assign({}, state, { formToken: inputs[0].value }), "");
  }
})();
