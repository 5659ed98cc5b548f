// Embedding operations page: while a job is queued or running, poll the job status endpoint and update the
// jobs table (percent, ETA, step, error). The state lives in the Job rows, so a reload shows the same thing.
(function () {
  "use strict";
  var script = document.getElementById("operations-script");
  var statusUrl = script.getAttribute("data-status-url");
  var body = document.getElementById("jobs-body");
  var POLL_MS = 1000;
  var live = {};

  function isLive(job) { return job.state === "queued" || job.state === "running"; }

  function cell(text, className) {
    var td = document.createElement("td");
    if (className) td.className = className;
    if (text !== undefined && text !== null) td.textContent = text;
    return td;
  }

  function row(job) {
    var tr = document.createElement("tr");
    tr.setAttribute("data-job", job.id);
    tr.appendChild(cell("#" + job.id + " " + job.label));
    var state = cell();
    var badge = document.createElement("span");
    badge.className = "state state-" + job.state;
    badge.textContent = job.state;
    state.appendChild(badge);
    tr.appendChild(state);
    var progress = cell();
    var bar = document.createElement("span");
    bar.className = "progress";
    var fill = document.createElement("span");
    fill.style.width = job.percent + "%";
    bar.appendChild(fill);
    var percent = document.createElement("span");
    percent.className = "percent";
    percent.textContent = " " + job.percent + "%";
    progress.appendChild(bar);
    progress.appendChild(percent);
    tr.appendChild(progress);
    tr.appendChild(cell(job.eta_seconds === null ? "-" : Math.round(job.eta_seconds) + " s", "eta"));
    var step = cell(job.message);
    if (job.chunks) {
      // A build shared by worker processes: its chunks, summed over them all.
      var chunks = document.createElement("div");
      chunks.className = "chunks";
      chunks.textContent = job.chunks.detail;
      step.appendChild(chunks);
    }
    tr.appendChild(step);
    var result = cell();
    if (job.error) {
      var error = document.createElement("div");
      error.className = "error-text";
      error.textContent = job.error;
      result.appendChild(error);
    } else if (job.generation) {
      result.textContent = "generation " + job.generation;
    } else if (job.head) {
      result.textContent = "head " + job.head;
    }
    tr.appendChild(result);
    tr.appendChild(cell(job.created_at.replace("T", " ").slice(0, 19)));
    return tr;
  }

  function render(jobs) {
    var finished = false;
    while (body.firstChild) body.removeChild(body.firstChild);
    jobs.forEach(function (job) {
      body.appendChild(row(job));
      if (live[job.id] && !isLive(job)) finished = true;
      live[job.id] = isLive(job);
    });
    return finished;
  }

  function poll() {
    fetch(statusUrl, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { return response.json(); })
      .then(function (data) {
        var finished = render(data.jobs);
        if (finished) {
          // A job ended: the generations table changed. Reload once the row shows its final state.
          setTimeout(function () { window.location.reload(); }, 1500);
        } else if (data.active) {
          setTimeout(poll, POLL_MS);
        }
      })
      .catch(function () { setTimeout(poll, POLL_MS * 3); });
  }

  var initial = JSON.parse(document.getElementById("jobs-data").textContent);
  initial.forEach(function (job) { live[job.id] = isLive(job); });
  if (initial.some(isLive)) setTimeout(poll, POLL_MS);
})();
