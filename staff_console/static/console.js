/* The staff console's only script: focus on a refused form's problems, and the publish
   progress (polls /api/publish/status while a publish or restore runs). Every page works
   without it. Text is set with textContent only. */
(function () {
  "use strict";
  var summary = document.getElementById("problem-summary");
  if (summary) summary.focus();

  var progress = document.getElementById("progress");
  if (!progress || progress.getAttribute("data-running") !== "true") return;
  var words = {waiting: "waiting", running: "running…", done: "done", failed: "failed"};

  function paragraph(parent, text) {
    var node = document.createElement("p");
    node.textContent = text;
    parent.appendChild(node);
  }

  function show(job) {
    var list = document.getElementById("job-steps");
    var result = document.getElementById("job-result");
    list.textContent = "";
    var current = "";
    job.steps.forEach(function (step) {
      var item = document.createElement("li");
      item.className = "step " + step.state;
      item.textContent = step.name + ": " + words[step.state] +
        (step.message ? " — " + step.message : "");
      list.appendChild(item);
      if (step.state === "running") current = step.name + ": " + (step.message || "running…");
    });
    result.textContent = "";
    if (!job.finished) {
      paragraph(result, current || "Running…");
      return;
    }
    result.className = job.ok ? "notice" : "problem-summary";
    paragraph(result, job.message);
    if (job.details && job.details.length) {
      var details = document.createElement("ul");
      job.details.forEach(function (line) {
        var item = document.createElement("li");
        item.textContent = line;
        details.appendChild(item);
      });
      result.appendChild(details);
    }
    var again = document.createElement("a");
    again.href = "/publish";
    again.textContent = "Show the versions now";
    result.appendChild(again);
    var button = document.querySelector("#publish-form button");
    if (button) button.disabled = false;
  }

  function poll() {
    fetch("/api/publish/status", {credentials: "same-origin",
                                  headers: {"Accept": "application/json"}})
      .then(function (response) {
        if (!response.ok) throw new Error(String(response.status));
        return response.json();
      })
      .then(function (data) {
        if (!data.job) return;
        show(data.job);
        if (!data.job.finished) window.setTimeout(poll, 1500);
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }
  window.setTimeout(poll, 1000);
})();
