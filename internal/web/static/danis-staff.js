// "Mənimlə danış", the operator's answer: choosing an opening answer puts
// it in the message box to be edited before sending. Without JavaScript the
// chosen answer is sent as it is when the box is left empty.
(function () {
  "use strict";
  var canned = document.getElementById("canned");
  var box = document.getElementById("danis-message");
  if (!canned || !box) return;
  canned.addEventListener("change", function () {
    if (canned.value && box.value.trim() === "") {
      box.value = canned.value;
      canned.value = "";
      box.focus();
    }
  });
})();
