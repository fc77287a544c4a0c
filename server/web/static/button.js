/* Mecene Flattr button: turns <a class="mecene-flattr" href="…/flattr-button?url=…"> into a button that
   asks once for the visitor's home instance, remembers it in this site's localStorage, and opens the
   creator's instance with it filled in. Without this script the plain link works the same way. */
(function () {
  "use strict";
  var KEY = "mecene-home";
  var STYLE = "display:inline-block;padding:.35em .9em;border-radius:6px;background:#2f6b3c;color:#fff;" +
    "font:600 14px/1.4 system-ui,sans-serif;text-decoration:none;cursor:pointer";

  function remembered() {
    try { return window.localStorage.getItem(KEY) || ""; } catch (e) { return ""; }
  }

  function remember(home) {
    try { window.localStorage.setItem(KEY, home); } catch (e) { /* private browsing: ask next time */ }
  }

  function withHome(href, home) {
    var url = new URL(href, document.baseURI);
    url.searchParams.set("home", home);
    return url.toString();
  }

  function onClick(event) {
    var link = event.currentTarget;
    var home = remembered();
    if (!home || event.altKey) {
      home = (window.prompt("Your fediverse account or Mecene instance (for example alice@example.org):", home) || "").trim();
      if (!home) { event.preventDefault(); return; }
      remember(home);
    }
    link.href = withHome(link.getAttribute("data-mecene-href"), home);
  }

  function enhance(link) {
    if (link.getAttribute("data-mecene-href")) { return; }
    link.setAttribute("data-mecene-href", link.href);
    link.setAttribute("role", "button");
    link.setAttribute("style", STYLE);
    link.addEventListener("click", onClick);
  }

  function start() {
    var links = document.querySelectorAll("a.mecene-flattr");
    for (var i = 0; i < links.length; i += 1) { enhance(links[i]); }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
}());
