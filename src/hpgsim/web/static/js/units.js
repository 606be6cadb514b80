// Analytes, their display units (chosen per analyte) and number formatting. Values arrive in
// each analyte's canonical unit; factors come from the server (hpgsim.units.ANALYTES).

export const PALETTE = ["#1f5fa8", "#c0392b", "#2e8b57", "#8e44ad", "#d35400", "#6d4c41"];
export const HOURS_PER_WEEK = 168;

let analytes = {};
const chosen = {};

/** Remember the server's analyte table. */
export function setAnalytes(list) {
  analytes = Object.fromEntries(list.map((a) => [a.name, a]));
}

export function analyte(name) {
  return analytes[name];
}

/** The display unit of an analyte (the user's choice, else canonical). */
export function unitOf(name) {
  return chosen[name] || analytes[name].units[0];
}

/** Choose a display unit; ignored when the analyte has no such unit. */
export function setUnit(name, unit) {
  const a = analytes[name];
  if (a && a.units.includes(unit)) chosen[name] = unit;
}

/** The user's unit choices that differ from canonical (for the share link and CSV). */
export function unitChoices() {
  return Object.fromEntries(Object.entries(chosen).filter(([n, u]) => u !== analytes[n].units[0]));
}

/** Canonical value -> display unit. */
export function convert(name, value) {
  if (value === null || value === undefined) return value;
  const a = analytes[name];
  return value * a.factors[a.units.indexOf(unitOf(name))];
}

/** 3 significant figures, whole numbers from 100 up (as the CLI summary prints). */
export function fmt(x) {
  if (x === null || x === undefined || !Number.isFinite(x)) return "-";
  if (Math.abs(x) >= 99.5) return x.toFixed(0);
  if (x === 0) return "0";
  return x.toPrecision(3).replace(/(\.\d*?)0+$/, "$1").replace(/\.$/, "");
}

/** A value of an analyte shown in its display unit: "512 ng/dL". */
export function show(name, value) {
  return `${fmt(convert(name, value))} ${unitOf(name)}`;
}

/** Index of the sample nearest to t in an ascending array. */
export function nearest(times, t) {
  let lo = 0;
  let hi = times.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (times[mid] <= t) lo = mid; else hi = mid;
  }
  return Math.abs(times[hi] - t) < Math.abs(times[lo] - t) ? hi : lo;
}

/** Create an element with attributes and children (strings become text). */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else if (k === "text") node.textContent = v;
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c !== null && c !== undefined) node.append(c instanceof Node ? c : String(c));
  }
  return node;
}
