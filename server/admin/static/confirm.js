// "Are you sure?" before a form that cannot be undone (revoke a device, reset a password…).
// The question is the form's (or the pressed button's) data-confirm text. A script file, not
// an inline onsubmit handler: the Content-Security-Policy runs no inline script.
(function () {
  "use strict";

  document.addEventListener("submit", (event) => {
    const form = event.target;
    const button = event.submitter;
    const question =
      (button && button.dataset.confirm) || (form instanceof HTMLFormElement && form.dataset.confirm);
    if (question && !window.confirm(question)) event.preventDefault();
  });
})();
