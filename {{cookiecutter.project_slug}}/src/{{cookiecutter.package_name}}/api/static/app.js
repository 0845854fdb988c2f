// The page's form is built from the model's own schema (GET metadata, with the API key when
// one is set), pre-filled with its example of typical values, and posts to the same endpoints
// any client uses. No build step; no inline script (the Content-Security-Policy allows none).
"use strict";

const $ = (id) => document.getElementById(id);
let meta = null;
let apiKey = "";

function headers(extra) {
  return apiKey ? { ...extra, "X-API-Key": apiKey } : { ...extra };
}

function describe(spec) {
  if (spec.kind === "numeric") {
    return spec.min == null ? "number" : `number, ${spec.min} to ${spec.max} in training`;
  }
  if (spec.kind === "datetime") return "date, e.g. 2024-05-31";
  if (spec.kind === "text") return "free text (the model reads its words)";
  const levels = spec.categories || [];
  const shown = levels.slice(0, 8).join(", ");
  return levels.length > 8 ? `${shown}, … (${levels.length} levels)` : shown;
}

function buildForm() {
  const fields = $("fields");
  fields.replaceChildren();
  Object.entries(meta.schema.columns).forEach(([name, spec], i) => {
    const box = document.createElement("div");
    box.className = "field";
    const label = document.createElement("label");
    label.htmlFor = `field-${i}`;
    label.textContent = name;
    const input = document.createElement("input");
    input.id = `field-${i}`;
    input.dataset.column = name;
    input.dataset.kind = spec.kind;
    if (spec.kind === "numeric") {
      input.type = "number";
      input.step = "any";
    } else {
      input.type = "text";
      if (spec.categories && spec.categories.length) {
        const list = document.createElement("datalist");
        list.id = `levels-${i}`;
        for (const level of spec.categories) {
          const option = document.createElement("option");
          option.value = level;
          list.append(option);
        }
        box.append(list);
        input.setAttribute("list", list.id);
      }
    }
    const hint = document.createElement("small");
    hint.textContent = describe(spec);
    box.prepend(label);
    box.append(input, hint);
    fields.append(box);
  });
  fillExample();
}

function fillExample() {
  const example = meta.example || {};
  for (const input of document.querySelectorAll("#fields input")) {
    const value = example[input.dataset.column];
    input.value = value == null ? "" : String(value);
  }
}

function record() {
  const body = {};
  for (const input of document.querySelectorAll("#fields input")) {
    const text = input.value.trim();
    if (text === "") body[input.dataset.column] = null;
    else body[input.dataset.column] = input.dataset.kind === "numeric" ? Number(text) : text;
  }
  for (const name of Object.keys(meta.schema.dropped || {})) body[name] = null;
  return body;
}

function explain(detail, count) {
  if (Array.isArray(detail)) {
    const shown = detail.map((e) => `${e.loc.slice(1).join(".") || "body"}: ${e.msg}`).join("; ");
    return count > detail.length ? `${shown} (and ${count - detail.length} more)` : shown;
  }
  return String(detail);
}

function meterRow(className, labelText, share, note) {
  // A label, a meter from 0 to 1 and a note: a class's probability, or its share of today.
  const row = document.createElement("div");
  row.className = className;
  const name = document.createElement("span");
  name.textContent = labelText;
  const meter = document.createElement("meter");
  meter.min = 0;
  meter.max = 1;
  meter.value = share;
  const value = document.createElement("span");
  value.textContent = note;
  row.append(name, meter, value);
  return row;
}

function showAnswer(answer) {
  $("error").hidden = true;
  $("prediction").textContent = typeof answer.prediction === "number" && !meta.classes
    ? answer.prediction.toLocaleString(undefined, { maximumFractionDigits: 4 })
    : String(answer.prediction);
  const bars = $("probabilities");
  bars.replaceChildren();
  for (const [label, p] of Object.entries(answer.probabilities || {})) {
    bars.append(meterRow("bar", label, p, `${(100 * p).toFixed(1)} %`));
  }
  const warnings = $("warnings");
  warnings.replaceChildren(...(answer.warnings || []).map((text) => {
    const item = document.createElement("li");
    item.textContent = text;
    return item;
  }));
  const rule = meta.classes && meta.classes.length === 2 && meta.threshold != null
    ? `${meta.classes[1]} when its probability is at least ${meta.threshold.toFixed(3)}; `
    : "";
  $("version").textContent = `${rule}model version ${answer.model_version}`;
}

function showError(text) {
  $("error").textContent = text;
  $("error").hidden = false;
}

async function predict(event) {
  event.preventDefault();
  const response = await fetch("predict", {
    method: "POST",
    headers: headers({ "Content-Type": "application/json" }),
    body: JSON.stringify(record()),
  });
  const body = await response.json().catch(() => ({ detail: response.statusText }));
  if (response.ok) showAnswer(body);
  else showError(`${response.status}: ${explain(body.detail, body.count)}`);
}

function cells(line) {
  // One CSV line into its cells, with "quoted, values" and doubled "" quotes.
  const out = [];
  let cell = "";
  let quoted = false;
  for (let i = 0; i < line.length; i += 1) {
    const c = line[i];
    if (quoted && c === '"' && line[i + 1] === '"') {
      cell += '"';
      i += 1;
    } else if (c === '"') {
      quoted = !quoted;
    } else if (c === "," && !quoted) {
      out.push(cell);
      cell = "";
    } else {
      cell += c;
    }
  }
  out.push(cell);
  return out;
}

function preview(csvText) {
  const lines = csvText.trim().split(/\r?\n/).slice(0, 11);
  const table = document.createElement("table");
  lines.forEach((line, i) => {
    const row = document.createElement("tr");
    for (const cell of cells(line)) {
      const element = document.createElement(i === 0 ? "th" : "td");
      element.textContent = cell;
      row.append(element);
    }
    table.append(row);
  });
  $("csv-preview").replaceChildren(table);
}

async function scoreCsv() {
  const file = $("csv-file").files[0];
  if (!file) {
    $("csv-status").textContent = "Choose a CSV file first.";
    return;
  }
  $("csv-status").textContent = "Scoring…";
  const response = await fetch("predict/csv", {
    method: "POST",
    headers: headers({ "Content-Type": "text/csv" }),
    body: file,
  });
  const text = await response.text();
  if (!response.ok) {
    let detail = text;
    try {
      const answer = JSON.parse(text);
      detail = explain(answer.detail, answer.count);
    } catch (_) { /* plain text */ }
    $("csv-status").textContent = `${response.status}: ${detail}`;
    return;
  }
  const link = document.createElement("a");
  link.href = URL.createObjectURL(new Blob([text], { type: "text/csv" }));
  link.download = "predictions.csv";
  link.textContent = "Download predictions.csv";
  $("csv-status").replaceChildren(link);
  preview(text);
}

function number(value) {
  return value.toLocaleString(undefined, { maximumFractionDigits: 2 });
}

async function showActivity() {
  // Counts only (GET activity, behind the API key when one is set): no record is shown.
  const response = await fetch("activity", { headers: headers({}) });
  if (!response.ok) return;
  const activity = await response.json();
  $("activity").hidden = false;
  const since = activity.since.slice(0, 10);
  $("activity-count").textContent = activity.log
    ? `${activity.predictions.toLocaleString()} predictions today (since ${since} 00:00 UTC).`
    : "This service does not log its predictions (APP_LOG_PREDICTIONS=false).";
  const bars = [];
  const total = activity.predictions || 1;
  for (const [label, count] of Object.entries(activity.classes || {})) {
    const note = `${(100 * count / total).toFixed(1)} % (${count})`;
    bars.push(meterRow("share", label, count / total, note));
  }
  const histogram = activity.histogram;
  if (histogram) {
    const most = Math.max(...histogram.counts, 1);
    histogram.counts.forEach((count, i) => {
      const range = `${number(histogram.edges[i])} to ${number(histogram.edges[i + 1])}`;
      bars.push(meterRow("share", range, count / most, String(count)));
    });
  }
  $("activity-bars").replaceChildren(...bars);
  const last = activity.monitor;
  $("activity-monitor").textContent = last
    ? `Last monitor run: ${last.verdict} on ${last.rows.toLocaleString()} rows, ${last.created_at}`
      + (last.crossed.length ? `; moved: ${last.crossed.join(", ")}.` : ".")
    : "No monitor run yet (make monitor).";
}

async function start() {
  const response = await fetch("metadata", { headers: headers({}) });
  if (response.status === 401) {
    $("key-box").hidden = false;
    $("subtitle").textContent = "This service needs an API key.";
    return;
  }
  if (!response.ok) {
    $("subtitle").textContent = `The model is not available (${response.status}); see /ready.`;
    return;
  }
  meta = await response.json();
  $("key-box").hidden = !apiKey;
  document.title = meta.name;
  $("title").textContent = meta.name;
  $("subtitle").textContent =
    `Predicts ${meta.target} (${meta.problem_type}) with ${meta.model}, trained ${meta.trained_at}.`;
  buildForm();
  showActivity();
}

$("record-form").addEventListener("submit", predict);
$("reset").addEventListener("click", fillExample);
$("csv-send").addEventListener("click", scoreCsv);
$("activity-refresh").addEventListener("click", showActivity);
$("use-key").addEventListener("click", () => {
  apiKey = $("api-key").value.trim();
  start();
});
start();
