// "Mənimlə danış": the quick exit leaves at once and takes the page's own
// history entry with it (location.replace), so Back does not bring the
// conversation back. Without JavaScript the link does the same but for the
// history entry. Escape pressed twice leaves too.
(function () {
  "use strict";
  var exit = document.getElementById("quick-exit");
  if (!exit) return;
  function leave(e) {
    if (e) e.preventDefault();
    document.body.innerHTML = "";
    window.location.replace(exit.href);
  }
  exit.addEventListener("click", leave);
  var last = 0;
  document.addEventListener("keydown", function (e) {
    if (e.key !== "Escape") return;
    var now = Date.now();
    if (now - last < 800) leave(e);
    last = now;
  });
})();
