// Calls to the hpgsim HTTP API: JSON in and out, the access token, and errors that name
// the field, the problem and the fix.

const TOKEN_KEY = "hpgsim.token";

/** An API error: HTTP status plus the server's {field, problem, fix, message}. */
export class ApiError extends Error {
  constructor(status, body) {
    const e = (body && body.error) || {};
    super(e.message || `request failed (${status})`);
    this.status = status;
    this.field = e.field || "";
    this.problem = e.problem || this.message;
    this.fix = e.fix || "";
  }

  /** One line for people: "field: problem. Fix: fix". */
  describe() {
    const where = this.field ? `${this.field}: ` : "";
    return `${where}${this.problem}${this.fix ? `. Fix: ${this.fix}` : ""}`;
  }
}

async function askToken() {
  const dialog = document.getElementById("token-dialog");
  const input = document.getElementById("token-input");
  input.value = "";
  dialog.showModal();
  await new Promise((resolve) => dialog.addEventListener("close", resolve, { once: true }));
  sessionStorage.setItem(TOKEN_KEY, input.value.trim());
}

/** Send a request; on 401 ask for the token once and retry. Returns the Response. */
async function send(method, path, body, retried = false) {
  const headers = {};
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 401 && !retried) {
    await askToken();
    return send(method, path, body, true);
  }
  if (!response.ok) {
    let parsed = null;
    try { parsed = await response.json(); } catch { /* not JSON */ }
    throw new ApiError(response.status, parsed);
  }
  return response;
}

/** GET or POST JSON. */
export async function api(method, path, body) {
  return (await send(method, path, body)).json();
}

/** POST and return the body as a Blob (CSV download). */
export async function apiBlob(path, body) {
  return (await send("POST", path, body)).blob();
}
