// One analyte over time as an SVG chart: reference range, phases, cohort band, curves of one
// or more courses, lab points, dose marks, and a hover read-out of the values.

import { HOURS_PER_WEEK, analyte, convert, el, fmt, nearest, unitOf } from "./units.js";

const NS = "http://www.w3.org/2000/svg";
const W = 600;
const H = 260;
const M = { l: 50, r: 12, t: 16, b: 64 };
const PLOT_H = H - M.t - M.b;

function svg(tag, attrs = {}, text) {
  const node = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

/** About n round tick values covering [lo, hi]. */
function ticks(lo, hi, n = 5) {
  const raw = (hi - lo) / n || 1;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((f) => f * mag).find((s) => s >= raw);
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(+v.toFixed(10));
  return out;
}

function path(xs, ys) {
  let d = "";
  let pen = false;
  for (let i = 0; i < xs.length; i++) {
    if (ys[i] === null || ys[i] === undefined) { pen = false; continue; }
    d += `${pen ? "L" : "M"}${xs[i].toFixed(1)},${ys[i].toFixed(1)}`;
    pen = true;
  }
  return d;
}

/**
 * A chart panel for analyte `name`.
 * courses: [{label, color, times_h, values, doses, pumps, phases}] (values canonical);
 * bands: [{label, color, times_h, p5, p50, p95}] (5-95% ribbons with their median);
 * labs: [{t_h, value, censor}]; onUnit: called with the new unit when the user picks one.
 */
export function chartPanel({ name, courses, bands = [], labs = [], onUnit }) {
  const a = analyte(name);
  const unit = unitOf(name);
  const select = el("select", { "aria-label": `${a.label} unit`, "data-analyte": name,
    onchange: (e) => onUnit(name, e.target.value) },
  a.units.map((u) => el("option", { value: u, selected: u === unit }, u)));
  const box = el("div", { class: "chart", "data-analyte": name },
    el("div", { class: "chart-head" }, el("h4", {}, a.label), select));
  const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img",
    "aria-label": `${a.label} over time in ${unit}` });
  box.append(root);

  // ranges
  const tMin = Math.min(0, ...labs.map((l) => l.t_h));
  const tMax = Math.max(1, ...[...courses, ...bands].map((c) => c.times_h[c.times_h.length - 1]));
  const conv = (v) => convert(name, v);
  const [refLo, refHi] = a.reference.map((v) => (v === null ? null : conv(v)));
  let yMax = Math.max(refHi ?? 0, refLo ?? 0);
  for (const c of courses) for (const v of c.values) if (v !== null) yMax = Math.max(yMax, conv(v));
  for (const b of bands) for (const v of b.p95) if (v !== null) yMax = Math.max(yMax, conv(v));
  for (const l of labs) yMax = Math.max(yMax, conv(l.value));
  yMax = yMax > 0 ? yMax * 1.08 : 1;
  const X = (t) => M.l + ((t - tMin) / (tMax - tMin)) * (W - M.l - M.r);
  const Y = (v) => M.t + PLOT_H * (1 - Math.min(v, yMax) / yMax);
  const bottom = M.t + PLOT_H;

  // reference range
  if (refLo !== null || refHi !== null) {
    const top = Y(refHi ?? yMax);
    const low = Y(refLo ?? 0);
    const rect = svg("rect", { x: M.l, y: top, width: W - M.l - M.r, height: low - top,
      fill: "rgba(46,160,67,0.13)", class: "reference" });
    rect.append(svg("title", {}, `reference ${refLo === null ? "" : fmt(refLo)}-${refHi === null ? "" : fmt(refHi)} ${unit}: ${a.reference_source}`));
    root.append(rect);
  }
  // axes and grid
  for (const v of ticks(0, yMax)) {
    if (v > yMax) continue;
    root.append(svg("line", { x1: M.l, x2: W - M.r, y1: Y(v), y2: Y(v), stroke: "#e6e9ef" }));
    root.append(svg("text", { x: M.l - 4, y: Y(v) + 3, "text-anchor": "end", "font-size": 10,
      fill: "#5b6475" }, fmt(v)));
  }
  const weeks = ticks(tMin / HOURS_PER_WEEK, tMax / HOURS_PER_WEEK, 8);
  for (const w of weeks) {
    const x = X(w * HOURS_PER_WEEK);
    root.append(svg("line", { x1: x, x2: x, y1: bottom, y2: bottom + 4, stroke: "#5b6475" }));
    root.append(svg("text", { x, y: bottom + 14, "text-anchor": "middle", "font-size": 10,
      fill: "#5b6475" }, String(w)));
  }
  root.append(svg("line", { x1: M.l, x2: W - M.r, y1: bottom, y2: bottom, stroke: "#5b6475" }));
  root.append(svg("text", { x: W - M.r, y: bottom + 26, "text-anchor": "end", "font-size": 10,
    fill: "#5b6475" }, "weeks"));
  root.append(svg("text", { x: 4, y: M.t - 5, "font-size": 10, fill: "#5b6475" }, unit));

  // phases of the first course
  for (const ph of courses.length === 1 ? courses[0].phases : []) {
    const x = X(ph.start_h);
    root.append(svg("line", { x1: x, x2: x, y1: M.t, y2: bottom, stroke: "#9aa3b2",
      "stroke-dasharray": "3,3" }));
    root.append(svg("text", { x: x + 3, y: M.t + 9, "font-size": 9, fill: "#5b6475" }, ph.name));
  }
  // 5-95% bands with their medians
  for (const band of bands) {
    const xs = band.times_h.map(X);
    const up = band.p95.map((v) => Y(conv(v ?? 0)));
    const lo = band.p5.map((v) => Y(conv(v ?? 0)));
    let d = `M${xs[0]},${up[0]}`;
    for (let i = 1; i < xs.length; i++) d += `L${xs[i].toFixed(1)},${up[i].toFixed(1)}`;
    for (let i = xs.length - 1; i >= 0; i--) d += `L${xs[i].toFixed(1)},${lo[i].toFixed(1)}`;
    root.append(svg("path", { d: `${d}Z`, fill: band.color, "fill-opacity": 0.16, stroke: "none",
      class: "band", "data-label": band.label }));
    root.append(svg("path", { d: path(xs, band.p50.map((v) => (v === null ? null : Y(conv(v))))),
      fill: "none", stroke: band.color, "stroke-width": 1, "stroke-dasharray": "4,3" }));
  }
  // curves
  for (const c of courses) {
    root.append(svg("path", { d: path(c.times_h.map(X), c.values.map((v) => (v === null ? null : Y(conv(v))))),
      fill: "none", stroke: c.color, "stroke-width": 1.6, class: "curve", "data-label": c.label }));
  }
  // labs
  for (const l of labs) {
    const x = X(l.t_h);
    const y = Y(conv(l.value));
    const mark = l.censor
      ? svg("path", { d: `M${x - 4},${y - 3}L${x + 4},${y - 3}L${x},${y + 4}Z`, fill: "#fff",
        stroke: "#111", class: "lab" })
      : svg("circle", { cx: x, cy: y, r: 3.5, fill: "#111", class: "lab" });
    mark.append(svg("title", {}, `lab ${l.censor}${fmt(conv(l.value))} ${unit} at week ${fmt(l.t_h / HOURS_PER_WEEK)}`));
    root.append(mark);
  }
  // dose marks: one strip per course below the axis
  courses.slice(0, 3).forEach((c, row) => {
    const y = bottom + 30 + row * 9;
    for (const p of c.pumps) {
      root.append(svg("rect", { x: X(p.start_h), y, width: Math.max(X(p.end_h) - X(p.start_h), 1),
        height: 5, fill: c.color, opacity: 0.5 }));
    }
    const seen = new Set();
    for (const d of c.doses) {
      const x = Math.round(X(d.t_h));
      if (seen.has(x)) continue;
      seen.add(x);
      root.append(svg("line", { x1: x, x2: x, y1: y, y2: y + 6, stroke: c.color, class: "dose" }));
    }
  });
  root.append(svg("text", { x: 4, y: bottom + 36, "font-size": 9, fill: "#5b6475" }, "doses"));

  // hover read-out
  const guide = svg("line", { y1: M.t, y2: bottom, stroke: "#14233b", "stroke-width": 0.8,
    visibility: "hidden" });
  const hit = svg("rect", { x: M.l, y: M.t, width: W - M.l - M.r, height: PLOT_H,
    fill: "transparent", class: "hit" });
  root.append(guide, hit);
  const tip = el("div", { class: "tooltip", hidden: true });
  box.append(tip);
  hit.addEventListener("mousemove", (ev) => {
    const r = root.getBoundingClientRect();
    const sx = ((ev.clientX - r.left) / r.width) * W;
    const t = tMin + ((sx - M.l) / (W - M.l - M.r)) * (tMax - tMin);
    const lines = [`week ${fmt(t / HOURS_PER_WEEK)}`];
    for (const c of courses) {
      const i = nearest(c.times_h, t);
      lines.push(`${c.label}: ${fmt(conv(c.values[i]))} ${unit}`);
    }
    for (const b of bands) {
      const i = nearest(b.times_h, t);
      lines.push(`${b.label} 5-95%: ${fmt(conv(b.p5[i]))}-${fmt(conv(b.p95[i]))} ${unit}`);
    }
    guide.setAttribute("x1", sx);
    guide.setAttribute("x2", sx);
    guide.setAttribute("visibility", "visible");
    tip.replaceChildren(...lines.map((s) => el("div", {}, s)));
    tip.hidden = false;
    const bx = box.getBoundingClientRect();
    tip.style.left = `${Math.min(ev.clientX - bx.left + 12, bx.width - 200)}px`;
    tip.style.top = `${ev.clientY - bx.top + 12}px`;
  });
  hit.addEventListener("mouseleave", () => {
    tip.hidden = true;
    guide.setAttribute("visibility", "hidden");
  });
  if (courses.length > 1 || bands.length || labs.length) {
    const items = courses.map((c) => el("span", {}, el("span", { class: "swatch", style: `background:${c.color}` }), c.label));
    for (const b of bands) items.push(el("span", {}, el("span", { class: "swatch band-swatch", style: `background:${b.color}` }), `${b.label} 5-95%`));
    if (labs.length) items.push(el("span", {}, "● lab  ▽ censored lab"));
    box.append(el("div", { class: "legend" }, items));
  }
  return box;
}

/** Render every chart SVG of `container` into one PNG Blob (title and disclaimer added). */
export async function chartsToPng(container, title, disclaimer) {
  const svgs = [...container.querySelectorAll(".chart svg")];
  const cols = 2;
  const scale = 2;
  const rows = Math.ceil(svgs.length / cols);
  const canvas = document.createElement("canvas");
  canvas.width = cols * W * scale;
  canvas.height = (rows * (H + 20) + 50) * scale;
  const ctx = canvas.getContext("2d");
  ctx.scale(scale, scale);
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.fillStyle = "#1d2330";
  ctx.font = "bold 14px sans-serif";
  ctx.fillText(title, 10, 18);
  for (let i = 0; i < svgs.length; i++) {
    const copy = svgs[i].cloneNode(true);
    copy.setAttribute("xmlns", NS);
    copy.setAttribute("width", W);
    copy.setAttribute("height", H);
    const label = svgs[i].closest(".chart").querySelector("h4").textContent;
    const url = URL.createObjectURL(new Blob([new XMLSerializer().serializeToString(copy)],
      { type: "image/svg+xml" }));
    const img = new Image();
    await new Promise((resolve, reject) => { img.onload = resolve; img.onerror = reject; img.src = url; });
    const x = (i % cols) * W;
    const y = 28 + Math.floor(i / cols) * (H + 20);
    ctx.font = "12px sans-serif";
    ctx.fillText(label, x + 10, y + 10);
    ctx.drawImage(img, x, y + 14, W, H);
    URL.revokeObjectURL(url);
  }
  ctx.font = "11px sans-serif";
  ctx.fillStyle = "#5a4300";
  ctx.fillText(disclaimer, 10, rows * (H + 20) + 44);
  return new Promise((resolve) => canvas.toBlob(resolve, "image/png"));
}
