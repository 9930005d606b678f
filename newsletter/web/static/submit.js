// Progressive enhancement of the volunteer form; the form works fully without this file.
(function () {
  "use strict";
  var form = document.querySelector("form.submit-form");
  if (!form) { return; }

  var addButton = form.querySelector("[data-add-person]");
  var rows = form.querySelector(".person-rows");
  if (addButton && rows) {
    addButton.addEventListener("click", function (event) {
      var all = rows.querySelectorAll("[data-person-row]");
      if (all.length >= 20) { return; }
      event.preventDefault();
      var index = all.length;
      var clone = all[all.length - 1].cloneNode(true);
      clone.querySelectorAll(".error").forEach(function (el) { el.remove(); });
      clone.querySelectorAll("input, select, label").forEach(function (el) {
        ["id", "name", "for"].forEach(function (attr) {
          var value = el.getAttribute(attr);
          if (value) { el.setAttribute(attr, value.replace(/persons-\d+-/, "persons-" + index + "-")); }
        });
        el.removeAttribute("aria-invalid");
        el.removeAttribute("aria-describedby");
        if (el.tagName === "INPUT" && el.type === "checkbox") { el.checked = false; }
        else if (el.tagName === "INPUT") { el.value = ""; }
        else if (el.tagName === "SELECT") { el.selectedIndex = 0; }
      });
      rows.appendChild(clone);
      var first = clone.querySelector("input[type=text]");
      if (first) { first.focus(); }
    });
  }

  // Warn before sending files the server would refuse, so nothing typed is lost to a refused upload.
  var files = form.querySelector("input[type=file]");
  var errorBox = form.querySelector("#files-error");
  function checkFiles() {
    if (!files || !files.files) { return true; }
    var maxFile = parseInt(files.getAttribute("data-max-file"), 10);
    var maxTotal = parseInt(files.getAttribute("data-max-total"), 10);
    var total = 0, problems = [];
    Array.prototype.forEach.call(files.files, function (f) {
      total += f.size;
      if (f.size > maxFile) { problems.push(files.getAttribute("data-msg-file") + " " + f.name); }
    });
    if (total > maxTotal) { problems.push(files.getAttribute("data-msg-total")); }
    if (errorBox) {
      errorBox.textContent = problems.join(" ");
      errorBox.hidden = problems.length === 0;
    }
    files.setAttribute("aria-invalid", problems.length ? "true" : "false");
    return problems.length === 0;
  }
  if (files) {
    files.addEventListener("change", checkFiles);
    form.addEventListener("submit", function (event) {
      var submitter = event.submitter;
      if (submitter && submitter.value === "add_person") { return; }
      if (!checkFiles()) { event.preventDefault(); files.focus(); }
    });
  }
})();
