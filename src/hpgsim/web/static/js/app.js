// The hpgsim page: protocols and subject in the sidebar; views Plan (one course with cohort
// band), Compare (overlay and endpoint table), Feedback loop, Patients and Drugs. The whole
// view state lives in the URL hash, so a copied link restores it.

import { ApiError, api, apiBlob } from "./api.js";
import { drugIndex, fromSpec, newProtocol, renderForm, toSpec } from "./builder.js";
import { chartPanel, chartsToPng } from "./chart.js";
import { drawLoop } from "./loop.js";
import { PALETTE, analyte, convert, el, fmt, setAnalytes, setUnit, show, unitChoices, unitOf } from "./units.js";

const $ = (id) => document.getElementById(id);
const state = {
  view: "plan", protocols: [], active: 0, subject: {}, compare: [], loopWeek: 0,
  cohortSize: 200, patient: "", candidates: [],
};
const results = { plan: null, planKey: "", band: null, bandKey: "", compare: null, forecast: null };
let meta = null;
let drugs = {};
let previewTimer = 0;

// --- small helpers -------------------------------------------------------------------------

function status(text) { $("status").textContent = text; }

function fail(where, err) {
  const text = err instanceof ApiError ? err.describe() : String(err);
  $(where).textContent = text;
  status("");
}

function download(blob, name) {
  const a = el("a", { href: URL.createObjectURL(blob), download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}

function slug(text) { return (text || "course").replace(/[^A-Za-z0-9]+/g, "_").slice(0, 60); }

function encode(obj) {
  const bytes = new TextEncoder().encode(JSON.stringify(obj));
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

function decode(text) {
  const bin = atob(text.replaceAll("-", "+").replaceAll("_", "/"));
  return JSON.parse(new TextDecoder().decode(Uint8Array.from(bin, (c) => c.charCodeAt(0))));
}

const protocol = () => state.protocols[state.active];
const spec = (i = state.active) => toSpec(state.protocols[i]);
const label = (i) => state.protocols[i].form.name || `Protocol ${i + 1}`;
const color = (i) => PALETTE[i % PALETTE.length];

// --- share link ----------------------------------------------------------------------------

function saveHash() {
  const shared = { v: state.view, p: state.protocols.map((_, i) => spec(i)), a: state.active,
    s: state.subject, u: unitChoices(), c: state.compare, w: state.loopWeek, n: state.cohortSize,
    pt: state.patient, fc: state.candidates };
  history.replaceState(null, "", `#${encode(shared)}`);
}

function loadHash() {
  if (location.hash.length < 2) return false;
  try {
    const s = decode(location.hash.slice(1));
    state.protocols = s.p.map(fromSpec);
    state.active = Math.min(s.a || 0, state.protocols.length - 1);
    state.view = s.v || "plan";
    state.subject = s.s || {};
    state.compare = s.c || [];
    state.loopWeek = s.w || 0;
    state.cohortSize = s.n || 200;
    state.patient = s.pt || "";
    state.candidates = s.fc || [];
    for (const [name, unit] of Object.entries(s.u || {})) setUnit(name, unit);
    return state.protocols.length > 0;
  } catch (err) {
    status(`The link could not be read (${err.message}); starting fresh.`);
    return false;
  }
}

// --- sidebar: protocols, builder, subject --------------------------------------------------

function renderProtocolTabs() {
  $("protocol-tabs").replaceChildren(...state.protocols.map((_, i) => el("button", {
    class: "chip", "aria-pressed": String(i === state.active), "data-index": i,
    onclick: () => { state.active = i; renderSidebar(); saveHash(); },
  }, el("span", { class: "swatch", style: `background:${color(i)}` }), label(i))));
  const chips = (target, chosen, toggle) => $(target).replaceChildren(...state.protocols.map((_, i) => el("button", {
    class: "chip", "aria-pressed": String(chosen.includes(i)), "data-index": i,
    onclick: () => { toggle(i); renderProtocolTabs(); saveHash(); },
  }, el("span", { class: "swatch", style: `background:${color(i)}` }), label(i))));
  const toggler = (list) => (i) => {
    const k = list.indexOf(i);
    if (k >= 0) list.splice(k, 1); else list.push(i);
  };
  chips("compare-pick", state.compare, toggler(state.compare));
  chips("forecast-pick", state.candidates, toggler(state.candidates));
  $("loop-protocol").replaceChildren(...state.protocols.map((_, i) => el("option", { value: i, selected: i === state.active }, label(i))));
  $("dose-new").elements.protocol.replaceChildren(...state.protocols.map((_, i) => el("option", { value: i }, label(i))));
}

function renderSidebar() {
  const p = protocol();
  renderProtocolTabs();
  $("protocol-name").value = p.form.name || "";
  for (const r of document.querySelectorAll('input[name="mode"]')) r.checked = r.value === p.mode;
  $("form-editor").hidden = p.mode !== "form";
  $("text-editor").hidden = p.mode !== "text";
  $("protocol-text").value = p.text;
  if (p.mode === "form") renderForm($("form-editor"), p, drugs, protocolChanged);
  const defaults = { age_years: 30, weight_kg: 80, condition: meta.conditions[0], ancestry: meta.ancestries[0] };
  for (const input of $("subject").querySelectorAll("[name]")) {
    input.value = state.subject[input.name] ?? defaults[input.name] ?? "";
  }
  previewSoon();
}

function protocolChanged() {
  renderProtocolTabs();
  previewSoon();
  saveHash();
}

function previewSoon() {
  clearTimeout(previewTimer);
  $("protocol-preview").textContent = "";
  previewTimer = setTimeout(preview, 250);
}

/** Validate the active protocol on the server and show its compact text form. */
async function preview() {
  const p = protocol();
  try {
    const out = await api("POST", "/api/protocol", { protocol: spec() });
    if (p !== protocol()) return;  // another protocol was picked meanwhile
    $("protocol-error").textContent = "";
    const weeks = fmt(out.span_h / 168);
    $("protocol-preview").textContent = `${out.text ?? out.lines.join("; ")} (simulated ${weeks} weeks)`;
    if (p.mode === "form" && out.text) p.text = out.text;
    if (out.warnings.length) $("protocol-preview").textContent += ` - warning: ${out.warnings.join(" ")}`;
  } catch (err) {
    if (p !== protocol()) return;
    $("protocol-preview").textContent = "";
    fail("protocol-error", err);
  }
}

function readSubject() {
  const s = {};
  for (const input of $("subject").querySelectorAll("[name]")) {
    const v = input.value.trim();
    if (v === "") continue;
    s[input.name] = input.tagName === "SELECT" ? v : Number(v);
  }
  state.subject = s;
  return Object.keys(s).length ? s : null;
}

// --- plan ----------------------------------------------------------------------------------

/** One chart per analyte of `names`: courses(name) and bands(name) give what each shows. */
function chartsInto(container, { courses = () => [], bands = () => [], labs = [], names = meta.plot_analytes }) {
  container.replaceChildren(...names.map((name) => chartPanel({
    name, courses: courses(name), bands: bands(name),
    labs: labs.filter((l) => l.analyte === name), onUnit: changeUnit,
  })));
}

/** Poll a background job until it ends, showing progress; returns its result. */
async function pollJob(job, bar, note) {
  bar.hidden = false;
  bar.value = 0;
  try {
    while (job.status === "queued" || job.status === "running") {
      await new Promise((r) => setTimeout(r, 400));
      job = await api("GET", `/api/jobs/${job.id}`);
      bar.value = job.progress;
      note.textContent = job.message;
    }
  } finally {
    bar.hidden = true;
  }
  if (job.status !== "done") throw new Error(job.error ? job.error.message : job.status);
  return job.result;
}

function courseLine(c, i, name) {
  return { label: c.label, color: color(i), times_h: c.times_h, values: c.series[name],
    doses: c.protocol.doses, pumps: c.protocol.pumps, phases: c.protocol.phases };
}

function tableInto(container, rows, labels) {
  const head = el("tr", {}, el("th", {}, "endpoint"), labels.map((l) => el("th", {}, l)));
  const body = rows.map((r) => {
    let text = r.label;
    if (r.threshold !== null) text += ` ${show(r.analyte, r.threshold)}`;
    if (r.kind === "value") text += ` (${unitOf(r.analyte)})`;
    if (r.kind === "weeks_after") text += " (weeks after last dose)";
    if (r.kind === "week") text += " (week)";
    const cells = r.cells.map((c, i) => {
      let v = c.text ?? "";
      if (c.value !== null) v = r.kind === "value" ? fmt(convert(r.analyte, c.value)) : fmt(c.value);
      if (c.week !== null) v += `${v ? " at week " : "week "}${c.week.toFixed(1)}`;
      return el("td", { class: "num", "data-row": r.key, "data-col": i }, v);
    });
    return el("tr", { "data-row": r.key }, el("td", {}, text), cells);
  });
  container.replaceChildren(el("table", { class: "data" }, el("thead", {}, head), el("tbody", {}, body)));
}

function planKey() { return JSON.stringify([spec(), state.subject]); }

function renderPlan() {
  const out = results.plan;
  if (!out) return;
  const c = out.course;
  const band = results.bandKey === results.planKey ? results.band : null;
  $("plan-title").textContent = `${c.label}: ${c.protocol.text ?? c.protocol.lines.join("; ")}`;
  $("plan-warnings").textContent = c.warnings.join(" ");
  chartsInto($("plan-charts"), { courses: (name) => [courseLine(c, state.active, name)],
    bands: (name) => (band && band.bands[name]
      ? [{ label: "cohort", color: color(state.active), times_h: band.times_h, ...band.bands[name] }] : []) });
  tableInto($("plan-table"), out.table, [c.label]);
}

async function runPlan() {
  readSubject();
  status("Simulating...");
  try {
    results.plan = await api("POST", "/api/simulate", { protocol: spec(), subject: readSubject() });
    results.planKey = planKey();
    $("subject-error").textContent = "";
    $("protocol-error").textContent = "";
    renderPlan();
    status(`Simulated in ${results.plan.elapsed_s.toFixed(2)} s.`);
  } catch (err) {
    fail(err.field && err.field.startsWith("subject") ? "subject-error" : "protocol-error", err);
  }
}

async function runBand() {
  if (!results.plan || results.planKey !== planKey()) await runPlan();
  if (!results.plan) return;
  state.cohortSize = Number($("cohort-size").value) || 200;
  saveHash();
  const key = results.planKey;
  try {
    const job = await api("POST", "/api/cohort", { protocol: spec(), subject: readSubject(), size: state.cohortSize });
    const band = await pollJob(job, $("cohort-progress"), $("cohort-note"));
    results.band = band;
    results.bandKey = key;
    $("cohort-note").textContent = `${band.size - band.failed} virtual men, ${band.elapsed_s.toFixed(1)} s`;
    renderPlan();
  } catch (err) {
    $("cohort-note").textContent = err instanceof ApiError ? err.describe() : String(err);
  }
}

// --- compare -------------------------------------------------------------------------------

function renderCompare() {
  const out = results.compare;
  if (!out) return;
  const idx = out.indices;
  chartsInto($("compare-charts"), { courses: (name) => out.courses.map((c, k) => courseLine(c, idx[k], name)) });
  tableInto($("compare-table"), out.table, out.courses.map((c) => c.label));
}

async function runCompare() {
  if (state.compare.length < 2) {
    state.compare = state.protocols.map((_, i) => i).slice(0, meta.limits.max_compare);
    renderProtocolTabs();
  }
  if (state.compare.length < 2) { status("Add a second protocol to compare."); return; }
  const indices = [...state.compare].sort((a, b) => a - b);
  status("Comparing...");
  try {
    const out = await api("POST", "/api/compare", { protocols: indices.map((i) => spec(i)), subject: readSubject() });
    results.compare = { ...out, indices };
    renderCompare();
    status(`Compared ${indices.length} protocols in ${out.elapsed_s.toFixed(2)} s.`);
  } catch (err) {
    fail("protocol-error", err);
  }
}

// --- feedback loop -------------------------------------------------------------------------

function renderLoop() {
  const out = results.plan;
  if (!out) return;
  const c = out.course;
  const span = c.times_h[c.times_h.length - 1] / 168;
  const slider = $("loop-time");
  slider.max = String(Math.floor(span * 2) / 2);
  slider.value = String(Math.min(state.loopWeek, span));
  $("loop-week").textContent = fmt(Number(slider.value));
  drawLoop($("loop-diagram"), $("loop-table"), c, Number(slider.value) * 168, meta, drugs);
}

// --- patients ------------------------------------------------------------------------------

async function loadPatients() {
  const list = await api("GET", "/api/patients");
  $("patient-pick").replaceChildren(el("option", { value: "" }, "(choose)"),
    ...list.map((p) => el("option", { value: p.id, selected: p.id === state.patient }, p.id)));
  if (state.patient) await showPatient();
}

async function showPatient() {
  $("patient-error").textContent = "";
  if (!state.patient) { $("patient-detail").hidden = true; return; }
  const d = await api("GET", `/api/patients/${encodeURIComponent(state.patient)}`);
  $("patient-detail").hidden = false;
  $("lab-table").replaceChildren(el("table", { class: "data" },
    el("thead", {}, el("tr", {}, ["date", "analyte", "value", "unit"].map((h) => el("th", {}, h)))),
    el("tbody", {}, d.labs.map((l) => el("tr", {}, el("td", {}, l.taken_at.slice(0, 10)),
      el("td", {}, analyte(l.analyte).label), el("td", { class: "num" }, `${l.censor}${fmt(l.value)}`), el("td", {}, l.unit))))));
  const first = d.doses[0];
  const last = d.doses[d.doses.length - 1];
  $("dose-summary").textContent = d.doses.length
    ? `${d.doses.length} doses recorded, ${first.given_at.slice(0, 10)} to ${last.given_at.slice(0, 10)}.`
    : "No doses recorded.";
}

async function runForecast() {
  if (!state.patient) return;
  status("Forecasting...");
  try {
    const out = await api("POST", `/api/patients/${encodeURIComponent(state.patient)}/forecast`,
      { protocols: state.candidates.map((i) => spec(i)) });
    const idx = [-1, ...state.candidates];
    results.forecast = out;
    chartsInto($("patient-charts"), { courses: (name) => out.courses.map((c, k) => ({ ...courseLine(c, k, name),
      color: idx[k] < 0 ? "#444" : color(idx[k]) })), labs: out.labs });
    tableInto($("patient-table"), out.table, out.courses.map((c) => c.label));
    const labs = Object.entries(out.baseline_labs).map(([n, v]) => show(n, v)).join(", ");
    const how = out.fitted ? "; model: his individual fit (MAP)"
      : labs ? `; model individualised to pre-treatment labs ${labs}` : "; model: typical man for his covariates";
    $("forecast-note").textContent = `time 0 = ${out.t0.slice(0, 10)}; candidates start at week ${fmt(out.start_h / 168)}${how}`;
    status(`Forecast in ${out.elapsed_s.toFixed(2)} s.`);
  } catch (err) {
    fail("patient-error", err);
  }
}

async function runFit() {
  $("patient-error").textContent = "";
  try {
    const job = await api("POST", `/api/patients/${encodeURIComponent(state.patient)}/fit`);
    const fit = await pollJob(job, $("fit-progress"), $("fit-note"));
    $("fit-note").textContent = `${fit.method} fit of ${fit.points.length} labs in ${fit.seconds.toFixed(1)} s`
      + (fit.notes.length ? `: ${fit.notes.join(" ")}` : "");
    $("fit-table").replaceChildren(el("table", { class: "data" },
      el("thead", {}, el("tr", {}, ["parameter", "typical for him", "fitted (MAP)", "90% interval"].map((h) => el("th", {}, h)))),
      el("tbody", {}, fit.parameters.map((p) => el("tr", { "data-parameter": p.name }, el("td", {}, p.name),
        el("td", { class: "num" }, fmt(p.typical)), el("td", { class: "num" }, fmt(p.map)),
        el("td", { class: "num" }, `${fmt(p.low)}-${fmt(p.high)}`))))));
    await runForecast();
  } catch (err) { fail("patient-error", err); }
}

async function runPatientPlan() {
  $("patient-error").textContent = "";
  if (!state.candidates.length) { $("plan-note").textContent = "Pick at least one candidate."; return; }
  try {
    const job = await api("POST", `/api/patients/${encodeURIComponent(state.patient)}/plan`,
      { protocols: state.candidates.map((i) => spec(i)), n_draws: 100 });
    const out = await pollJob(job, $("plan-progress"), $("plan-note"));
    const colorOf = (name) => color(state.candidates.find((i) => label(i) === name) ?? 0);
    const names = Object.keys(out.forecasts[0].bands);
    chartsInto($("patient-plan-charts"), { names, bands: (name) => out.forecasts.map((f) => ({
      label: f.name, color: colorOf(f.name), times_h: f.times_h, ...f.bands[name] })) });
    const pct = (p) => (p === null ? "-" : `${Math.round(100 * p)}%`);
    const range = (q) => (q ? `${fmt(q[1])} (${fmt(q[0])}-${fmt(q[2])})` : "-");
    $("patient-plan-table").replaceChildren(el("table", { class: "data" },
      el("thead", {}, el("tr", {}, ["rank", "candidate", "P(sperm >= 15 M/mL) by 6 mo", "by 12 mo",
        "P(T >= 300 ng/dL)", "days to T >= 300 (90%)", "E2 peak pg/mL (90%)", "next labs (day)"].map((h) => el("th", {}, h)))),
      el("tbody", {}, out.forecasts.map((f, k) => el("tr", { "data-candidate": f.name }, el("td", {}, String(k + 1)),
        el("td", {}, f.name), el("td", { class: "num" }, pct(f.p_sperm_6mo)), el("td", { class: "num" }, pct(f.p_sperm_12mo)),
        el("td", { class: "num" }, pct(f.p_T300)), el("td", { class: "num" }, range(f.t_T300_days)),
        el("td", { class: "num" }, range(f.e2_peak)), el("td", { class: "num" }, f.next_labs_day === null ? "-" : fmt(f.next_labs_day)))))));
    $("plan-note").textContent = `${out.forecasts[0].n_draws} posterior draws per candidate, ${out.elapsed_s.toFixed(1)} s; weeks from the candidate's start`;
  } catch (err) { fail("patient-error", err); }
}

function labUnits() {
  const form = $("lab-new");
  const a = analyte(form.elements.analyte.value);
  form.elements.unit.replaceChildren(...a.units.map((u) => el("option", { value: u }, u)));
}

// --- drugs ---------------------------------------------------------------------------------

async function renderDrugs() {
  const rows = await api("GET", "/api/drugs");
  $("drug-table").replaceChildren(el("table", { class: "data" },
    el("thead", {}, el("tr", {}, ["drug / route", "class", "dose unit", "species", "clinical max", "PK and sources", "limitation"].map((h) => el("th", {}, h)))),
    el("tbody", {}, rows.map((r) => el("tr", {}, el("td", {}, `${r.label} / ${r.route}${r.formulation ? ` / ${r.formulation}` : ""}`),
      el("td", {}, r.class.replaceAll("_", " ")), el("td", {}, r.dose_unit), el("td", {}, r.species.join(", ")),
      el("td", {}, r.clinical_max_per_week),
      el("td", {}, el("details", {}, el("summary", {}, `${r.pk.length} items`), el("ul", {}, r.pk.map((p) => el("li", {}, p))))),
      el("td", {}, r.notes))))));
}

// --- views, units, downloads ---------------------------------------------------------------

function changeUnit(name, unit) {
  setUnit(name, unit);
  saveHash();
  renderView();
}

function renderView() {
  if (state.view === "plan") renderPlan();
  if (state.view === "compare") renderCompare();
  if (state.view === "loop") renderLoop();
  if (state.view === "patients" && results.forecast) runForecast();
}

async function run() {
  readSubject();
  saveHash();
  if (state.view === "compare") await runCompare();
  else if (state.view === "patients") await runForecast();
  else {
    await runPlan();
    if (state.view === "loop") renderLoop();
  }
}

async function showView(view) {
  state.view = view;
  for (const b of document.querySelectorAll("nav [role=tab]")) b.setAttribute("aria-selected", String(b.dataset.view === view));
  for (const s of document.querySelectorAll("main > .view")) s.hidden = s.id !== `view-${view}`;
  $("png").disabled = !["plan", "compare", "patients"].includes(view);
  $("csv").disabled = !["plan", "compare", "loop"].includes(view);
  saveHash();
  if (view === "drugs" && !$("drug-table").childElementCount) await renderDrugs();
  if (view === "patients" && meta.patients) await loadPatients();
  if ((view === "plan" || view === "loop") && (!results.plan || results.planKey !== planKey())) await runPlan();
  if (view === "loop") renderLoop();
  if (view === "compare" && !results.compare) await runCompare();
}

async function downloadCsv() {
  const units = unitChoices();
  const which = state.view === "compare" ? [...state.compare].sort() : [state.active];
  for (const i of which) {
    const blob = await apiBlob("/api/simulate.csv", { protocol: spec(i), subject: readSubject(), units });
    download(blob, `${slug(label(i))}.csv`);
  }
}

async function downloadPng() {
  const container = { plan: "plan-charts", compare: "compare-charts", patients: "patient-charts" }[state.view];
  const title = state.view === "plan" ? $("plan-title").textContent : `hpgsim ${state.view}`;
  download(await chartsToPng($(container), title, meta.disclaimer), `hpgsim_${state.view}.png`);
}

// --- start ---------------------------------------------------------------------------------

function wire() {
  for (const b of document.querySelectorAll("nav [role=tab]")) b.addEventListener("click", () => showView(b.dataset.view));
  $("run").addEventListener("click", run);
  $("protocol-name").addEventListener("input", (e) => { protocol().form.name = e.target.value; protocolChanged(); });
  for (const r of document.querySelectorAll('input[name="mode"]')) {
    r.addEventListener("change", () => {
      const p = protocol();
      p.mode = r.value;
      if (p.mode === "form" && !p.form.phases.length) Object.assign(p, newProtocol(drugs, p.form.name), { mode: "form" });
      renderSidebar();
      saveHash();
    });
  }
  $("protocol-text").addEventListener("input", (e) => { protocol().text = e.target.value; protocolChanged(); });
  $("protocol-new").addEventListener("click", () => {
    state.protocols.push(newProtocol(drugs, `Protocol ${state.protocols.length + 1}`));
    state.active = state.protocols.length - 1;
    renderSidebar();
    saveHash();
  });
  $("protocol-copy").addEventListener("click", () => {
    const copy = structuredClone(protocol());
    copy.form.name = `${copy.form.name || "Protocol"} (copy)`;
    state.protocols.push(copy);
    state.active = state.protocols.length - 1;
    renderSidebar();
    saveHash();
  });
  $("protocol-delete").addEventListener("click", () => {
    if (state.protocols.length < 2) return;
    state.protocols.splice(state.active, 1);
    state.compare = [];
    state.candidates = [];
    state.active = Math.max(0, state.active - 1);
    renderSidebar();
    saveHash();
  });
  $("example").addEventListener("change", async (e) => {
    if (!e.target.value) return;
    const ex = await api("GET", `/api/examples/${e.target.value}`);
    state.protocols[state.active] = fromSpec(ex.protocol);
    if (ex.subject) state.subject = Object.fromEntries(Object.entries(ex.subject).filter(([, v]) => v !== null));
    e.target.value = "";
    renderSidebar();
    saveHash();
  });
  $("subject").addEventListener("change", () => { readSubject(); saveHash(); });
  $("cohort-run").addEventListener("click", runBand);
  $("compare-run").addEventListener("click", runCompare);
  $("loop-protocol").addEventListener("change", async (e) => {
    state.active = Number(e.target.value);
    renderSidebar();
    await runPlan();
    renderLoop();
  });
  $("loop-time").addEventListener("input", (e) => { state.loopWeek = Number(e.target.value); renderLoop(); saveHash(); });
  $("share").addEventListener("click", async () => {
    saveHash();
    try { await navigator.clipboard.writeText(location.href); status("Link copied."); } catch { status(`Share this link: ${location.href}`); }
  });
  $("csv").addEventListener("click", () => downloadCsv().catch((err) => fail("protocol-error", err)));
  $("png").addEventListener("click", () => downloadPng().catch((err) => status(String(err))));
  $("patient-pick").addEventListener("change", async (e) => { state.patient = e.target.value; saveHash(); await showPatient(); });
  $("patient-new").addEventListener("submit", async (e) => {
    e.preventDefault();
    const f = e.target.elements;
    try {
      await api("POST", "/api/patients", { id: f.id.value.trim(), age_years: Number(f.age_years.value),
        weight_kg: Number(f.weight_kg.value), condition: f.condition.value });
      state.patient = f.id.value.trim();
      saveHash();
      await loadPatients();
    } catch (err) { fail("patient-error", err); }
  });
  $("lab-new").elements.analyte.addEventListener("change", labUnits);
  $("lab-new").addEventListener("submit", async (e) => {
    e.preventDefault();
    const f = e.target.elements;
    try {
      await api("POST", `/api/patients/${encodeURIComponent(state.patient)}/labs`, { labs: [{
        taken_at: f.taken_at.value, analyte: f.analyte.value, value: f.value.value.trim(), unit: f.unit.value }] });
      await showPatient();
      await runForecast();
    } catch (err) { fail("patient-error", err); }
  });
  $("dose-new").addEventListener("submit", async (e) => {
    e.preventDefault();
    const f = e.target.elements;
    try {
      await api("POST", `/api/patients/${encodeURIComponent(state.patient)}/doses`,
        { protocol: spec(Number(f.protocol.value)), start: f.start.value });
      await showPatient();
    } catch (err) { fail("patient-error", err); }
  });
  $("forecast-run").addEventListener("click", runForecast);
  $("fit-run").addEventListener("click", runFit);
  $("plan-run").addEventListener("click", runPatientPlan);
}

async function start() {
  wire();
  meta = await api("GET", "/api/meta");
  setAnalytes(meta.analytes);
  drugs = drugIndex(await api("GET", "/api/drugs"));
  $("version").textContent = meta.version;
  $("disclaimer").textContent = meta.disclaimer;
  const options = (list) => list.map((v) => el("option", { value: v }, v.replaceAll("_", " ")));
  $("subject").querySelector('[name="condition"]').replaceChildren(...options(meta.conditions));
  $("subject").querySelector('[name="ancestry"]').replaceChildren(...options(meta.ancestries));
  $("patient-new").elements.condition.replaceChildren(...options(meta.conditions));
  $("lab-new").elements.analyte.replaceChildren(...meta.plot_analytes.map((n) => el("option", { value: n }, analyte(n).label)));
  labUnits();
  $("patients-off").hidden = meta.patients;
  $("patients-on").hidden = !meta.patients;
  $("cohort-size").max = String(meta.limits.max_cohort);
  const examples = await api("GET", "/api/examples");
  $("example").append(...examples.map((x) => el("option", { value: x.id, title: x.description }, x.name)));
  if (!loadHash()) {
    const first = examples.find((x) => x.id === "post_trt_recovery") || examples[0];
    if (first) {
      const ex = await api("GET", `/api/examples/${first.id}`);
      state.protocols = [fromSpec(ex.protocol)];
      state.subject = Object.fromEntries(Object.entries(ex.subject || {}).filter(([, v]) => v !== null));
    } else {
      state.protocols = [newProtocol(drugs)];
    }
  }
  $("cohort-size").value = String(state.cohortSize);
  renderSidebar();
  await showView(state.view);
}

start().catch((err) => status(`The page could not start: ${err instanceof ApiError ? err.describe() : err}`));
