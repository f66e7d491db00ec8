/* The one-line embed of a shop's chat: a "Chat with us" button that opens the shop's chat page in a frame.
   <script src="https://<app>/api/assets/embed.js" data-tenant="<tenant>" data-key="<widget key, optional>" async></script> */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !script.dataset.tenant) return;
  var origin = new URL(script.src).origin;
  var src = origin + "/api/tenants/" + encodeURIComponent(script.dataset.tenant) + "/widget";
  if (script.dataset.key) src += "?key=" + encodeURIComponent(script.dataset.key);
  var label = script.dataset.label || "Chat with us";

  var button = document.createElement("button");
  button.type = "button";
  button.textContent = label;
  button.setAttribute("aria-expanded", "false");
  button.style.cssText = "position:fixed;right:16px;bottom:16px;z-index:2147483000;padding:12px 18px;border:0;" +
    "border-radius:24px;background:#0b5cad;color:#fff;font:600 16px system-ui,sans-serif;cursor:pointer;" +
    "box-shadow:0 2px 8px rgba(0,0,0,.3)";
  var frame = null;
  button.addEventListener("click", function () {
    if (!frame) {
      frame = document.createElement("iframe");
      frame.src = src;
      frame.title = label;
      frame.style.cssText = "position:fixed;right:16px;bottom:72px;z-index:2147483000;width:min(400px,calc(100vw - 32px));" +
        "height:min(600px,calc(100vh - 96px));border:1px solid #c9d1db;border-radius:12px;background:#fff;" +
        "box-shadow:0 4px 16px rgba(0,0,0,.25)";
      document.body.appendChild(frame);
    } else {
      frame.hidden = !frame.hidden;
    }
    button.setAttribute("aria-expanded", String(!frame.hidden));
  });
  document.body.appendChild(button);
})();
