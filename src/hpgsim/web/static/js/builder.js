// The protocol builder: phases of drug lines edited as a form, mapped one to one onto the
// API's protocol body (quantities as text with their unit, e.g. "150 mg", "7 d").

import { el } from "./units.js";

export const SCHEDULES = ["7 d", "3.5 d", "14 d", "10 w", "1 d", "eod", "bid", "2x/w", "3x/w",
  "once", "pulse"];
const DOSE_UNITS = { mg: ["mg", "ug"], IU: ["IU"] };

/** Catalog rows -> {drug: {label, cls, doseUnit, routes, defaultRoute, formulations}}. */
export function drugIndex(rows) {
  const out = {};
  for (const r of rows) {
    const d = out[r.drug] ??= { label: r.label, cls: r.class, doseUnit: r.dose_unit,
      routes: r.routes, defaultRoute: null, formulations: {}, species: new Set() };
    if (r.default) d.defaultRoute = r.route;
    if (r.formulation) (d.formulations[r.route] ??= []).push(r.formulation);
    r.species.forEach((s) => d.species.add(s));
  }
  for (const d of Object.values(out)) d.defaultRoute ??= d.routes[0];
  return out;
}

/** A new drug line for `drug`. */
export function newLine(drugs, drug = "testosterone_cypionate") {
  const d = drugs[drug];
  return { drug, dose: d.doseUnit === "IU" ? "1500 IU" : "100 mg", route: d.defaultRoute,
    every: "7 d" };
}

/** A new protocol in phase form. */
export function newProtocol(drugs, name = "New protocol") {
  return { mode: "form", text: "", form: { name,
    phases: [{ name: "Treatment", duration: "12 w", drugs: [newLine(drugs)] }], follow_up: "12 w" } };
}

/** The API body of a protocol as edited (form or text). */
export function toSpec(p) {
  if (p.mode === "text") return { name: p.form.name || "", text: p.text };
  const spec = { ...p.form, phases: p.form.phases.map((ph) => ({ ...ph,
    drugs: ph.drugs.map((d) => Object.fromEntries(Object.entries(d).filter(([, v]) => v !== "" && v !== undefined && v !== null))) })) };
  for (const k of ["follow_up", "description"]) if (!spec[k]) delete spec[k];
  return spec;
}

/** A protocol state from an API protocol body (an example, a share link). */
export function fromSpec(spec) {
  if (spec.text) return { mode: "text", text: spec.text, form: { name: spec.name || "", phases: [] } };
  return { mode: "form", text: "", form: structuredClone(spec) };
}

function splitDose(text) {
  const m = /^\s*([0-9.]+)\s*([A-Za-zµ]+)\s*$/.exec(text || "");
  return m ? [m[1], m[2]] : ["", ""];
}

function taperText(steps) {
  return (steps || []).map((s) => `${s.dose} for ${s.for}`).join(", ");
}

function parseTaper(text) {
  const steps = text.split(",").map((s) => s.trim()).filter(Boolean).map((s) => {
    const [dose, len] = s.split(/\s+for\s+/i);
    return { dose: (dose || "").trim(), for: (len || "").trim() };
  });
  return steps.length ? steps : undefined;
}

function field(label, input, cls) {
  return el("label", { class: cls }, label, input);
}

function lineEditor(line, drugs, changed, rerender, remove) {
  const d = drugs[line.drug];
  const [amount, unit] = splitDose(line.dose);
  const setDose = () => {
    const v = amountInput.value.trim();
    line.dose = v ? `${v} ${unitSelect.value}` : undefined;
    changed();
  };
  const drugSelect = el("select", { "aria-label": "drug", onchange: (e) => {
    Object.assign(line, newLine(drugs, e.target.value), { every: line.every });
    delete line.formulation;
    rerender();
  } }, Object.entries(drugs).sort((a, b) => a[1].label.localeCompare(b[1].label))
    .map(([k, v]) => el("option", { value: k, selected: k === line.drug }, v.label)));
  const amountInput = el("input", { type: "number", step: "any", min: "0", value: amount,
    "aria-label": "dose", oninput: setDose });
  const units = DOSE_UNITS[d.doseUnit];
  const unitSelect = el("select", { "aria-label": "dose unit", onchange: setDose },
    units.map((u) => el("option", { value: u, selected: u.toLowerCase() === unit.toLowerCase() }, u)));
  const routeSelect = el("select", { "aria-label": "route", onchange: (e) => {
    line.route = e.target.value;
    delete line.formulation;
    rerender();
  } }, d.routes.map((r) => el("option", { value: r, selected: r === (line.route || d.defaultRoute) }, r)));
  const every = el("input", { list: "schedule-list", value: line.every || "", "aria-label": "schedule",
    oninput: (e) => { line.every = e.target.value.trim() || undefined; changed(); },
    // a pump shows its pulse interval field: re-render only when that changes
    onchange: () => { if ((line.every === "pulse") !== Boolean(more.querySelector('[aria-label="pulse interval"]'))) rerender(); } });
  const shown = { taper: taperText(line.taper), days: (line.days || []).join(",") };
  const read = {
    taper: parseTaper,
    count: (v) => Number(v),
    days: (v) => v.split(",").map((x) => x.trim()).filter(Boolean),
  };
  const text = (key, label, placeholder) => field(label, el("input", {
    value: shown[key] ?? line[key] ?? "", placeholder, "aria-label": label,
    oninput: (e) => {
      const v = e.target.value.trim();
      line[key] = v ? (read[key] || String)(v) : undefined;
      changed();
    } }));
  const forms = d.formulations[line.route || d.defaultRoute] || [];
  const more = el("div", { class: "more" },
    text("start", "start (in phase)", "0 d"), text("duration", "duration", "phase"),
    text("count", "doses", ""), text("days", "weekdays", "mon,thu"),
    line.every === "pulse" ? text("pulse_interval", "pulse interval", "90 min") : null,
    text("taper", "taper", "50 mg for 2 w, 25 mg for 2 w"),
    forms.length ? field("formulation", el("select", { onchange: (e) => { line.formulation = e.target.value || undefined; changed(); } },
      el("option", { value: "" }, "(default)"),
      forms.map((f) => el("option", { value: f, selected: f === line.formulation }, f)))) : null);
  return el("div", { class: "line" },
    field("drug", drugSelect, "f-drug"), field("dose", amountInput, "f-dose"),
    field("unit", unitSelect, "f-unit"), field("route", routeSelect, "f-route"),
    field("schedule", every, "f-every"),
    el("button", { class: "small f-x", title: "remove this drug", "aria-label": "remove drug", onclick: remove }, "×"),
    el("details", { class: "f-more", open: Boolean(line.start || line.duration || line.count || line.days || line.taper || line.pulse_interval || line.formulation) },
      el("summary", {}, "timing, taper, formulation"), more));
}

/** Render the phase form of protocol state `p` into `container`. */
export function renderForm(container, p, drugs, changed) {
  const rerender = () => { renderForm(container, p, drugs, changed); changed(); };
  const phases = p.form.phases;
  const nodes = phases.map((ph, i) => el("div", { class: "phase", "data-phase": i },
    el("div", { class: "phase-head" },
      field("phase", el("input", { value: ph.name, "aria-label": "phase name", oninput: (e) => { ph.name = e.target.value; changed(); } })),
      field("lasts", el("input", { value: ph.duration || "", placeholder: "longest drug", "aria-label": "phase duration",
        oninput: (e) => { ph.duration = e.target.value.trim() || undefined; changed(); } })),
      el("button", { class: "small", "aria-label": "remove phase", onclick: () => { phases.splice(i, 1); rerender(); } }, "remove")),
    ph.drugs.map((line, j) => lineEditor(line, drugs, changed, rerender, () => { ph.drugs.splice(j, 1); rerender(); })),
    el("button", { class: "small", onclick: () => { ph.drugs.push(newLine(drugs)); rerender(); } }, "+ drug")));
  container.replaceChildren(...nodes,
    el("div", { class: "row" },
      el("button", { id: "phase-add", onclick: () => { phases.push({ name: `Phase ${phases.length + 1}`, duration: "8 w", drugs: [] }); rerender(); } }, "+ phase"),
      field("follow-up after the last phase", el("input", { value: p.form.follow_up || "", placeholder: "12 w",
        "aria-label": "follow-up", oninput: (e) => { p.form.follow_up = e.target.value.trim() || undefined; changed(); } }))),
    el("datalist", { id: "schedule-list" }, SCHEDULES.map((s) => el("option", { value: s }))));
}
