// Quality review page (web/templates/quality_review.html): playback speed and skip buttons for
// the call recording, and the scorecard picker. No inline script (CSP: script-src 'self').
(function () {
  "use strict";
  document.addEventListener("click", function (e) {
    var btn = e.target.closest("[data-speed], [data-skip]");
    var audio = document.getElementById("recording");
    if (!btn || !audio) { return; }
    if (btn.hasAttribute("data-speed")) {
      audio.playbackRate = parseFloat(btn.getAttribute("data-speed"));
      document.querySelectorAll("[data-speed]").forEach(function (b) {
        b.setAttribute("aria-pressed", b === btn ? "true" : "false");
      });
    } else {
      var t = audio.currentTime + parseFloat(btn.getAttribute("data-skip"));
      audio.currentTime = Math.max(0, Math.min(t, audio.duration || t));
    }
  });
  document.addEventListener("change", function (e) {
    var sel = e.target.closest("[data-card-switch]");
    if (sel) { window.location.assign(sel.getAttribute("data-card-switch") + encodeURIComponent(sel.value)); }
  });
})();
