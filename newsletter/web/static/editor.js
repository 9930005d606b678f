/* Desk keyboard shortcuts. Served by the app itself; every page works without it.
   j / k: next / previous row of a list marked data-keys; Enter: open it; "/": focus the search box;
   a: accept (on an incident page). Shortcuts never fire while typing in a field.
   A page that answers a POST (a refused form, an error page) names the page a reload should show
   (data-reload-url, from newsletter.web.errors): it replaces the POST in the history, so a reload
   never sends the form again. */
(function () {
  "use strict";
  var self = document.querySelector("script[data-reload-url]");
  if (self && window.history && window.history.replaceState) {
    var target = self.getAttribute("data-reload-url");
    if (target && target.charAt(0) === "/" && target.charAt(1) !== "/") {
      window.history.replaceState(null, "", target);
    }
  }
  var current = -1;
  function rows() { return Array.prototype.slice.call(document.querySelectorAll("[data-keys] [data-href]")); }
  function mark(list, i) {
    list.forEach(function (r) {
      r.classList.remove("kbd-current"); r.removeAttribute("aria-selected"); r.style.outline = "";
    });
    if (list[i]) {
      list[i].classList.add("kbd-current");
      list[i].setAttribute("aria-selected", "true");
      list[i].style.outline = "3px solid currentColor";  /* CSSOM, allowed by the CSP (no inline style attribute) */
      list[i].scrollIntoView({block: "nearest"});
    }
  }
  function typing(el) {
    return el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));
  }
  document.addEventListener("keydown", function (ev) {
    if (ev.ctrlKey || ev.metaKey || ev.altKey || typing(ev.target)) { return; }
    var list = rows();
    if (ev.key === "j" || ev.key === "k") {
      if (!list.length) { return; }
      current = ev.key === "j" ? Math.min(current + 1, list.length - 1) : Math.max(current - 1, 0);
      mark(list, current);
      ev.preventDefault();
    } else if (ev.key === "Enter" && list[current]) {
      window.location.href = list[current].getAttribute("data-href");
      ev.preventDefault();
    } else if (ev.key === "/") {
      var q = document.querySelector("input[type=search]");
      if (q) { q.focus(); ev.preventDefault(); }
    } else if (ev.key === "a") {
      var accept = document.querySelector("[data-shortcut=accept]");
      if (accept) { accept.focus(); ev.preventDefault(); }
    }
  });
})();
