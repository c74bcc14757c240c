// Access keys that work the same in every browser: Alt+letter (Chrome,
// Edge, Firefox's Alt+Shift too) moves the focus to the control with that
// accesskey, and presses it when it is a button. The native handling is
// stopped so that a button is not pressed twice.
document.addEventListener("keydown", function (e) {
  if (!e.altKey || e.ctrlKey || e.metaKey || e.key.length !== 1) return;
  var el = document.querySelector('[accesskey="' + e.key.toLowerCase().replace(/["\\]/g, "") + '"]');
  if (!el) return;
  e.preventDefault();
  el.focus();
  if (el.tagName === "BUTTON" || (el.tagName === "A" && el.href)) el.click();
});
