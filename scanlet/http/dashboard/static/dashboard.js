// Scanlet dashboard: progressive enhancement only; every page works without it.
// Loaded as a file (the Content-Security-Policy allows no inline script).
"use strict";

(function () {
  document.documentElement.classList.add("js");

  function onReady(fn) {
    if (document.readyState === "loading") {
      document.addEventListener("DOMContentLoaded", fn);
    } else {
      fn();
    }
  }

  // Copy buttons: data-copy names the input whose value to copy.
  function setUpCopy() {
    document.querySelectorAll("[data-copy]").forEach(function (button) {
      button.addEventListener("click", function () {
        var field = document.querySelector(button.getAttribute("data-copy"));
        if (!field) return;
        var done = function () {
          var label = button.textContent;
          button.textContent = "Copied";
          window.setTimeout(function () { button.textContent = label; }, 1500);
        };
        if (navigator.clipboard && window.isSecureContext) {
          navigator.clipboard.writeText(field.value).then(done, function () {
            field.select();
          });
        } else {
          field.select();
          try { document.execCommand("copy"); done(); } catch (e) { /* selected for the user */ }
        }
      });
    });
  }

  // Selectors submit themselves when changed.
  function setUpAutosubmit() {
    document.querySelectorAll("form[data-autosubmit]").forEach(function (form) {
      form.addEventListener("change", function () { form.submit(); });
    });
  }

  // QR options: live preview and download links follow the form.
  function setUpQrOptions() {
    var form = document.getElementById("qr-options");
    var preview = document.getElementById("qr-preview");
    if (!form || !preview) return;
    var base = form.getAttribute("data-qr-base");
    var svg = document.getElementById("download-svg");
    var png = document.getElementById("download-png");
    var update = function () {
      var params = new URLSearchParams(new FormData(form));
      params.set("format", "svg");
      preview.src = base + "?" + params.toString();
      svg.href = base + "?" + params.toString();
      params.set("format", "png");
      png.href = base + "?" + params.toString();
    };
    form.addEventListener("input", update);
    form.addEventListener("change", update);
    form.addEventListener("submit", function (event) { event.preventDefault(); update(); });
  }

  // The live scan count: the dashboard's event stream sends the code's total after each
  // batch of scans (and once on connecting), so the figure never drifts from the stored one.
  function setUpLiveCount() {
    var live = document.querySelector("[data-live-slug]");
    var counter = document.querySelector("[data-testid='scan-count']");
    var state = document.getElementById("live-state");
    if (!live || !counter || !window.EventSource) return;
    var slug = live.getAttribute("data-live-slug");
    var source = new EventSource("/dashboard/stream?slug=" + encodeURIComponent(slug));
    source.addEventListener("open", function () { if (state) state.classList.add("on"); });
    source.addEventListener("error", function () { if (state) state.classList.remove("on"); });
    source.addEventListener("count", function (event) {
      var value = String(parseInt(event.data, 10));
      if (counter.textContent !== value) {
        counter.textContent = value;
        if (state) {
          state.classList.add("flash");
          window.setTimeout(function () { state.classList.remove("flash"); }, 1200);
        }
      }
    });
    window.addEventListener("pagehide", function () { source.close(); });
  }

  onReady(function () {
    setUpCopy();
    setUpAutosubmit();
    setUpQrOptions();
    setUpLiveCount();
  });
})();
