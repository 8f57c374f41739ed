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

  // The design panel: the preview and the download links follow the form. The query is
  // built from the fields as the server builds it (scanlet/http/dashboard/design.py): a size
  // is a number and a unit, DPI goes with a physical size, scale without one.
  function qrQuery(form) {
    var data = new FormData(form);
    var params = new URLSearchParams();
    // A code on another domain is named by its slug and ?domain= (a hidden field).
    if (data.get("domain")) params.set("domain", data.get("domain"));
    ["format", "border", "ecc", "shape", "dark", "light", "finder"].forEach(function (name) {
      params.set(name, data.get(name) || "");
    });
    var size = (data.get("size_value") || "").trim();
    if (size) {
      params.set("size", size + data.get("size_unit"));
      if (data.get("size_unit") !== "px") params.set("dpi", data.get("dpi") || "300");
    } else {
      params.set("scale", data.get("scale") || "8");
    }
    var label = (data.get("label") || "").trim();
    if (label) params.set("label", label);
    if (data.get("logo")) params.set("logo", "true");
    return params;
  }

  function setUpQrOptions() {
    var form = document.getElementById("qr-options");
    var preview = document.getElementById("qr-preview");
    var error = document.getElementById("qr-error");
    if (!form || !preview) return;
    var base = form.getAttribute("data-qr-base");
    var update = function () {
      var params = qrQuery(form);
      var chosen = params.get("format");
      params.set("format", chosen === "png" ? "png" : "svg");
      preview.src = base + "?" + params.toString();
      ["svg", "png", "pdf", "eps"].forEach(function (fmt) {
        var link = document.getElementById("download-" + fmt);
        if (!link) return;
        params.set("format", fmt);
        params.set("download", "true");
        link.href = base + "?" + params.toString();
        params.delete("download");
      });
    };
    // A refused combination (too little contrast, a label too long...) breaks the image:
    // ask the server why and say it under the preview.
    preview.addEventListener("error", function () {
      if (!error || !window.fetch) return;
      fetch(preview.src, { credentials: "same-origin" }).then(function (response) {
        return response.ok ? null : response.json();
      }).then(function (problem) {
        if (!problem) return;
        error.textContent = problem.detail || "This combination cannot be drawn.";
        error.hidden = false;
      }).catch(function () { /* the next change tries again */ });
    });
    preview.addEventListener("load", function () { if (error) error.hidden = true; });
    // While a value is being typed ("3" on the way to "30" mm) the preview waits for a
    // pause, so half-typed values are not drawn (and refused); a choice is drawn at once.
    var pending = null;
    var now = function () { window.clearTimeout(pending); update(); };
    form.addEventListener("input", function () {
      window.clearTimeout(pending);
      pending = window.setTimeout(update, 400);
    });
    form.addEventListener("change", now);
    form.addEventListener("submit", function (event) { event.preventDefault(); now(); });
  }

  // Logo upload: the file goes as the request body (its own Content-Type), the form token in
  // a header; on success the page is drawn again with the logo ticked.
  function setUpLogoUpload() {
    var button = document.getElementById("logo-upload");
    var input = document.getElementById("logo-file");
    var error = document.getElementById("logo-error");
    var form = document.getElementById("qr-options");
    if (!button || !input || !window.fetch) return;
    button.addEventListener("click", function () {
      var file = input.files && input.files[0];
      if (!file) { input.click(); return; }
      button.disabled = true;
      fetch(button.getAttribute("data-logo-url"), {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": file.type || "application/octet-stream",
                   "X-CSRF-Token": button.getAttribute("data-csrf") },
        body: file
      }).then(function (response) {
        if (response.ok) {
          var params = new URLSearchParams(new FormData(form));
          params.set("logo", "true");
          window.location.assign(window.location.pathname + "?" + params.toString() + "#design");
          return null;
        }
        return response.json().then(function (problem) {
          error.textContent = problem.detail || ("Upload refused (" + response.status + ").");
          error.hidden = false;
          button.disabled = false;
        });
      }).catch(function () {
        error.textContent = "The upload failed; try again.";
        error.hidden = false;
        button.disabled = false;
      });
    });
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
    setUpLogoUpload();
    setUpLiveCount();
  });
})();
