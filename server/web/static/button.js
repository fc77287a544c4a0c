/* Mecene Flattr button: turns <a class="mecene-flattr" href="…/flattr-button?url=…"> into a button that
   asks once for the visitor's home instance, remembers it in this site's localStorage, and opens the
   creator's instance with it filled in. Without this script the plain link works the same way.

   What the visitor types is remembered only once their instance has answered WebFinger with a flattr
   intent, so a typo is never kept. Alt+click asks again: Chromium would download the link on Alt+click,
   so that click's default is always prevented and the script navigates itself. */
(function () {
  "use strict";
  var KEY = "mecene-home";
  var INTENT = "https://w3id.org/mecene#Flattr";
  var HOST = /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]{1,5})?$/;
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

  /* The WebFinger resource for what was typed, as the creator's instance reads it (federation/intents.py):
     alice@host, @alice@host, acct:alice@host, host or https://host/; null when it cannot be an address. */
  function resource(typed) {
    var value = typed.trim().toLowerCase().replace(/^acct:/, "").replace(/^@/, "");
    var web = /^https?:\/\/([^/?#]+)\/?$/.exec(value);
    if (web) { value = web[1]; }
    var parts = value.split("@");
    if (parts.length > 2 || !parts[0]) { return null; }
    var host = parts.length === 2 ? parts[1] : parts[0];
    var name = parts.length === 2 ? parts[0] : host.split(":")[0];
    return HOST.test(host) ? { host: host, acct: "acct:" + name + "@" + host } : null;
  }

  /* Resolves true when the typed home answers WebFinger with a flattr intent, false otherwise (a typo, a server
     without Mecene, a page whose Content-Security-Policy forbids the request). */
  function offersFlattrs(typed, scheme) {
    var found = resource(typed);
    if (!found || !window.fetch) { return Promise.resolve(false); }
    var url = scheme + "//" + found.host + "/.well-known/webfinger?resource=" + encodeURIComponent(found.acct);
    return window.fetch(url, { headers: { Accept: "application/jrd+json, application/json" }, credentials: "omit" })
      .then(function (response) { return response.ok ? response.json() : {}; })
      .then(function (jrd) {
        return (jrd.links || []).some(function (link) {
          return link && link.rel === INTENT && /^https?:\/\//.test(link.template || "");
        });
      })
      .catch(function () { return false; });
  }

  function onClick(event) {
    var link = event.currentTarget;
    var button = link.getAttribute("data-mecene-href");
    var home = remembered();
    if (home && !event.altKey) {
      link.href = withHome(button, home);
      return;
    }
    event.preventDefault();
    var typed = (window.prompt("Your fediverse account or Mecene instance (for example alice@example.org):", home) ||
      "").trim();
    if (!typed) { return; }
    offersFlattrs(typed, new URL(button, document.baseURI).protocol).then(function (ok) {
      if (ok) { remember(typed); }
      window.location.assign(withHome(button, typed));
    });
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
