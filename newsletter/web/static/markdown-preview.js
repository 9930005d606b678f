// Live preview of an item's Markdown on the issue desk, as the editor types. The server renders it with
// the same code as the issue (newsletter/markup.py, cleaned by nh3), so the preview is what readers get;
// without JavaScript the Preview button does the same. Nothing is loaded from anywhere else.
(function () {
  "use strict";
  document.querySelectorAll("textarea[data-markdown-preview]").forEach(function (area) {
    var token = area.form && area.form.querySelector("input[name=csrf_token]");
    if (!token) { return; }
    var box = document.createElement("div");
    box.className = "md-preview md-live";
    box.setAttribute("aria-live", "polite");
    box.setAttribute("aria-label", area.getAttribute("data-markdown-preview"));
    box.setAttribute("role", "region");
    box.hidden = true;
    area.insertAdjacentElement("afterend", box);
    var timer = null;
    var last = null;
    area.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        if (area.value === last) { return; }
        last = area.value;
        var body = new URLSearchParams({ csrf_token: token.value, text: area.value });
        fetch("/editor/issues/markdown-preview", { method: "POST", body: body, credentials: "same-origin" })
          .then(function (r) { return r.ok ? r.text() : ""; })
          .then(function (html) { box.innerHTML = html; box.hidden = !html; })  // nh3-cleaned on the server
          .catch(function () { box.hidden = true; });
      }, 400);
    });
  });
})();
