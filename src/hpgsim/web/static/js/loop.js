// The feedback loop at one time of a course: hypothalamus -> pituitary -> testes, the blood
// between them, the signal strengths (arrow width), the negative feedback, and where each
// drug of the protocol acts.

import { analyte, el, fmt, nearest, show } from "./units.js";

const NS = "http://www.w3.org/2000/svg";
const BOX = {
  hypothalamus: { x: 300, y: 20, w: 300, h: 110, title: "Hypothalamus" },
  pituitary: { x: 300, y: 190, w: 300, h: 110, title: "Pituitary" },
  testes: { x: 300, y: 360, w: 300, h: 120, title: "Testes" },
  periphery: { x: 700, y: 150, w: 260, h: 200, title: "Blood (periphery)" },
};
const CLASS_COLORS = { androgen: "#c0392b", lh_receptor_agonist: "#2e8b57",
  fsh_receptor_agonist: "#16a085", gonadotropin: "#27ae60", gnrh_agonist: "#8e44ad",
  gnrh_antagonist: "#6c3483", serm: "#d35400", aromatase_inhibitor: "#b7950b" };

function svg(tag, attrs = {}, text) {
  const node = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

function arrow(root, [x1, y1, x2, y2], strength, color, label, id, [lx, ly] = [10, 0]) {
  const width = 1.5 + 7 * Math.min(Math.max(strength, 0), 1.5) / 1.5;
  root.append(svg("line", { x1, y1, x2, y2, stroke: color, "stroke-width": width,
    "marker-end": `url(#head-${color.slice(1)})`, "data-signal": id, opacity: 0.85 }));
  root.append(svg("text", { x: (x1 + x2) / 2 + lx, y: (y1 + y2) / 2 + ly, "font-size": 12,
    fill: color }, label));
}

/** Values of every signal and analyte of `course` at index i. */
function at(course, i) {
  const sig = Object.fromEntries(Object.entries(course.signals).map(([k, v]) => [k, v[i]]));
  const obs = Object.fromEntries(Object.entries(course.series).map(([k, v]) => [k, v[i]]));
  return { sig, obs };
}

/**
 * Draw the loop of `course` at time `tH` into `container`; `meta` gives signal labels and drug
 * sites, `drugs` the catalog index (label, class, species). Returns the row data shown.
 */
export function drawLoop(container, table, course, tH, meta, drugs) {
  const i = nearest(course.times_h, tH);
  const { sig, obs } = at(course, i);
  const base = course.signal_baseline;
  const root = svg("svg", { viewBox: "0 0 1000 520", role: "img",
    "aria-label": `Feedback loop at week ${fmt(course.times_h[i] / 168)}` });
  const defs = svg("defs");
  for (const c of ["#1f5fa8", "#c0392b", "#2e8b57"]) {
    const m = svg("marker", { id: `head-${c.slice(1)}`, viewBox: "0 0 10 10", refX: 8, refY: 5,
      markerWidth: 4, markerHeight: 4, orient: "auto-start-reverse" });
    m.append(svg("path", { d: "M0,0L10,5L0,10z", fill: c }));
    defs.append(m);
  }
  root.append(defs);
  const lines = {
    hypothalamus: [`pulse frequency ${fmt(sig.pulse_frequency)}x`, `GnRH per pulse ${fmt(sig.pulse_mass)}x`,
      `E2 receptor blocked ${fmt(100 * sig.er_block)}%`],
    pituitary: [`GnRH signal ${fmt(sig.gnrh_signal)}x`, `responsive receptors ${fmt(sig.receptor_available)}x`,
      `LH ${show("lh", obs.lh)}, FSH ${show("fsh", obs.fsh)}`],
    testes: [`T production ${fmt(sig.t_production)}x`, `intratesticular T ${show("intratesticular_testosterone", obs.intratesticular_testosterone)}`,
      `germ-cell support ${fmt(sig.germ_support)}x`, `sperm ${show("sperm_concentration", obs.sperm_concentration)}`],
    periphery: [`total T ${show("total_testosterone", obs.total_testosterone)}`,
      `free T ${show("free_testosterone", obs.free_testosterone)}`, `E2 ${show("estradiol", obs.estradiol)}`,
      `SHBG ${show("shbg", obs.shbg)}`, `inhibin B ${show("inhibin_b", obs.inhibin_b)}`,
      `aromatase blocked ${fmt(100 * sig.aromatase_inhibition)}%`],
  };
  for (const [organ, b] of Object.entries(BOX)) {
    const g = svg("g", { "data-organ": organ });
    g.append(svg("rect", { x: b.x, y: b.y, width: b.w, height: b.h, rx: 10, fill: "#f4f7fb",
      stroke: "#9aa3b2" }));
    g.append(svg("text", { x: b.x + 10, y: b.y + 18, "font-size": 14, "font-weight": "bold",
      fill: "#14233b" }, b.title));
    lines[organ].forEach((t, k) => g.append(svg("text", { x: b.x + 10, y: b.y + 38 + k * 16,
      "font-size": 12, fill: "#1d2330" }, t)));
    root.append(g);
  }
  // forward drive (blue) and feedback (red)
  const H = BOX.hypothalamus;
  const P = BOX.pituitary;
  const T = BOX.testes;
  const B = BOX.periphery;
  const rel = (name) => obs[name] / Math.max(course.baseline[name], 1e-9);
  arrow(root, [H.x + 150, H.y + H.h, P.x + 150, P.y - 4], sig.gnrh_signal, "#1f5fa8",
    `GnRH ${fmt(sig.gnrh_signal)}x`, "gnrh");
  arrow(root, [P.x + 90, P.y + P.h, P.x + 90, T.y - 4], rel("lh"), "#1f5fa8",
    `LH ${show("lh", obs.lh)}`, "lh");
  arrow(root, [P.x + 210, P.y + P.h, P.x + 210, T.y - 4], rel("fsh"), "#1f5fa8",
    `FSH ${show("fsh", obs.fsh)}`, "fsh");
  arrow(root, [T.x + T.w, T.y + 50, B.x - 4, B.y + B.h - 30], sig.t_production, "#1f5fa8",
    "T", "t", [4, 18]);
  arrow(root, [B.x + 80, B.y - 2, H.x + H.w + 4, H.y + 70], rel("free_testosterone"), "#c0392b",
    "- free T, E2", "feedback_h", [14, 4]);
  arrow(root, [B.x - 2, B.y + 40, P.x + P.w + 4, P.y + 40], rel("estradiol"), "#c0392b",
    "- E2, T", "feedback_p", [-22, -10]);
  arrow(root, [T.x - 2, T.y + 30, P.x - 4, P.y + P.h - 20], rel("inhibin_b"), "#c0392b",
    "- inhibin B (FSH)", "inhibin", [-120, 4]);
  // drugs at their sites
  const counts = {};
  const present = Object.keys(course.protocol.drug_classes);
  for (const drug of present) {
    const info = drugs[drug];
    const site = meta.drug_sites[info.cls] || { organ: "periphery", action: "" };
    const b = BOX[site.organ];
    const k = counts[site.organ] = (counts[site.organ] || 0) + 1;
    const conc = [...info.species].map((s) => course.drugs[s]).filter(Boolean)
      .map((d) => `${fmt(d.values[i])} ${d.unit}`)[0];
    const g = svg("g", { "data-drug": drug });
    const x = site.organ === "periphery" ? b.x + 10 : b.x - 285;
    const y = site.organ === "periphery" ? b.y + b.h + 8 + (k - 1) * 28 : b.y + 8 + (k - 1) * 28;
    g.append(svg("rect", { x, y, width: 270, height: 24, rx: 12,
      fill: CLASS_COLORS[info.cls] || "#555" }));
    g.append(svg("text", { x: x + 10, y: y + 16, "font-size": 12, fill: "#fff" },
      `${info.label}${conc ? `: ${conc}` : ""}`));
    g.append(svg("title", {}, `${info.label} (${info.cls.replaceAll("_", " ")}): ${site.action}`));
    if (site.organ !== "periphery") {
      g.append(svg("line", { x1: x + 270, y1: y + 12, x2: b.x, y2: y + 12,
        stroke: CLASS_COLORS[info.cls] || "#555", "stroke-dasharray": "3,2" }));
    }
    root.append(g);
  }
  root.append(svg("text", { x: 10, y: 510, "font-size": 11, fill: "#5b6475" },
    "Blue: drive; red: negative feedback; arrow width: signal strength; x = relative to the typical man at rest."));
  container.replaceChildren(root);
  // the signal table
  const rows = meta.signals.map((s) => {
    const scale = s.unit === "fraction" ? 100 : 1;
    const unit = s.unit === "fraction" ? "%" : s.unit;
    return el("tr", { "data-signal": s.name }, el("td", {}, s.organ), el("td", { title: s.description }, s.label),
      el("td", { class: "num" }, `${fmt(sig[s.name] * scale)} ${unit}`),
      el("td", { class: "num" }, `${fmt(base[s.name] * scale)} ${unit}`));
  });
  for (const name of ["lh", "fsh", "total_testosterone", "free_testosterone", "estradiol", "inhibin_b", "sperm_concentration"]) {
    rows.push(el("tr", { "data-signal": name }, el("td", {}, "observable"), el("td", {}, analyte(name).label),
      el("td", { class: "num" }, show(name, obs[name])), el("td", { class: "num" }, show(name, course.baseline[name]))));
  }
  table.replaceChildren(el("table", { class: "data" },
    el("thead", {}, el("tr", {}, el("th", {}, "where"), el("th", {}, "signal"),
      el("th", {}, `at week ${fmt(course.times_h[i] / 168)}`), el("th", {}, "before treatment"))),
    el("tbody", {}, rows)));
}
