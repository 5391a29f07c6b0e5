// Pinfold console: live job progress, upload progress and the app switcher.
// Everything works without it; it only saves reloads.
"use strict";

(function () {
  // The app switcher goes to the chosen app at once.
  document.querySelectorAll("select[data-autosubmit]").forEach(function (sel) {
    sel.addEventListener("change", function () { if (sel.value) sel.form.submit(); });
    var go = sel.form.querySelector("button");
    if (go) go.hidden = true;
  });

  // Live progress: poll the console's JSON while any job on the page runs.
  var main = document.querySelector("main[data-poll]");
  if (main) {
    var url = main.getAttribute("data-poll");
    var live = document.querySelector("[data-live]");
    var running = function () {
      return Array.prototype.some.call(document.querySelectorAll("[data-job] [data-field=status], [data-job-status]"),
        function (el) { var s = el.textContent.trim(); return s !== "COMPLETED" && s !== "FAILED"; });
    };
    var setText = function (row, field, value) {
      var el = row.querySelector("[data-field=" + field + "]");
      if (el && el.textContent !== value) el.textContent = value;
    };
    var update = function (jobs) {
      var reload = false;
      jobs.forEach(function (j) {
        var row = document.querySelector("[data-job=\"" + j.id + "\"]");
        if (!row) return;
        var bar = row.querySelector("progress[data-field=percent]");
        if (bar) { bar.value = j.percent; bar.textContent = j.percent + "%"; }
        setText(row, "pieces", j.pieces);
        setText(row, "processed", j.processed);
        setText(row, "failures", j.failures);
        setText(row, "rate", j.rate);
        setText(row, "duration", j.duration);
        var badge = row.querySelector("[data-field=status]") || document.querySelector("[data-job-status]");
        if (badge && badge.textContent !== j.status) {
          badge.textContent = j.status;
          badge.className = badge.className.replace(/\b(ok|bad|run|wait)\b/, j["class"]);
          // A job page shows failures and the segment once its job ends: fetch it again then.
          if (j.terminal && document.querySelector("[data-job-status]")) reload = true;
        }
        var fails = row.querySelector("[data-field=failures]");
        if (fails && fails.classList.contains("num")) fails.classList.toggle("has-failures", j.hasFailures);
      });
      if (reload) window.location.reload();
    };
    // A job's page redraws its timeline from the states in its JSON.
    var timeline = document.querySelector("ol[data-timeline]");
    var drawTimeline = function (entries) {
      if (!timeline || !entries) return;
      var items = entries.map(function (e) {
        var li = document.createElement("li");
        if (e.current) li.className = "current";
        var badge = document.createElement("span");
        badge.className = "badge " + e["class"];
        badge.textContent = e.state;
        li.appendChild(badge);
        li.appendChild(document.createTextNode(" "));
        if (e.time) {
          var time = document.createElement("time");
          time.setAttribute("datetime", e.time);
          time.textContent = e.when;
          li.appendChild(time);
        }
        li.appendChild(document.createTextNode(" "));
        var note = document.createElement("span");
        note.className = "muted";
        note.textContent = e.note;
        li.appendChild(note);
        return li;
      });
      timeline.replaceChildren.apply(timeline, items);
    };
    var tick = function () {
      if (!running()) { if (live) live.hidden = true; return; }
      if (live) live.hidden = false;
      fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (resp) {
          if (resp.status === 401) { window.location.href = "/console/signin"; throw new Error("signed out"); }
          if (!resp.ok) throw new Error("HTTP " + resp.status);
          return resp.json();
        })
        .then(function (data) {
          drawTimeline(data.timeline);
          update(data.jobs || []);
          if (running()) { setTimeout(tick, 1000); } else if (live) { live.hidden = true; }
        })
        .catch(function () { setTimeout(tick, 3000); });
    };
    setTimeout(tick, 1000);
  }

  // Upload progress: send the import form with XMLHttpRequest to show how much has gone.
  var form = document.querySelector("form[data-upload]");
  if (form && window.FormData && window.XMLHttpRequest) {
    form.addEventListener("submit", function (ev) {
      var files = form.querySelector("input[type=file]");
      if (!files || files.files.length === 0) return; // an s3:// location: a plain submit
      ev.preventDefault();
      var box = form.querySelector(".upload-progress");
      var bar = box.querySelector("progress");
      var text = box.querySelector("[data-upload-text]");
      var button = form.querySelector("button[type=submit]");
      box.hidden = false;
      button.disabled = true;
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      xhr.setRequestHeader("X-CSRF-Token", form.querySelector("input[name=csrf_token]").value);
      xhr.upload.addEventListener("progress", function (e) {
        if (!e.lengthComputable) return;
        var pct = Math.round(e.loaded * 100 / e.total);
        bar.value = pct;
        bar.textContent = pct + "%";
        text.textContent = pct < 100 ? pct + "% of " + Math.round(e.total / 1024) + " KiB" : "Stored; creating the job…";
      });
      xhr.addEventListener("load", function () {
        if (xhr.status >= 200 && xhr.status < 300) {
          window.location.href = xhr.responseURL;
          return;
        }
        // The server answered with the form and what to fix: show that page.
        var doc = new DOMParser().parseFromString(xhr.responseText, "text/html");
        var err = doc.querySelector(".error, h1");
        text.textContent = "Upload failed: " + (err ? err.textContent : "HTTP " + xhr.status);
        button.disabled = false;
      });
      xhr.addEventListener("error", function () {
        text.textContent = "Upload failed: the connection was lost.";
        button.disabled = false;
      });
      xhr.send(new FormData(form));
    });
  }
})();
