// api.js — the console speaks only the public HTTP API (api.md). The token
// lives in sessionStorage: per tab, gone when the tab closes, never in a
// URL or a cookie (so no CSRF either: the browser never adds it by itself).
const KEY = "raqib.token";

export const token = {
  get: () => sessionStorage.getItem(KEY) || "",
  set: (v) => sessionStorage.setItem(KEY, v),
  clear: () => sessionStorage.removeItem(KEY),
};

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.message || body?.error || `HTTP ${status}`);
    this.status = status;
    this.body = body || {};
  }
}

// One call; resolves with the JSON body of a 2xx, rejects with ApiError.
// keepalive lets a decision or release finish while the page unloads.
export async function api(method, path, body, opts = {}) {
  const headers = { Accept: "application/json" };
  const t = opts.token ?? token.get();
  if (t) headers.Authorization = `Bearer ${t}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let res;
  try {
    res = await fetch(path, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store", credentials: "omit", keepalive: !!opts.keepalive,
    });
  } catch (e) {
    throw new ApiError(0, { error: "network", message: String(e.message || e) });
  }
  let json = null;
  try { json = await res.json(); } catch { json = null; }
  if (!res.ok) throw new ApiError(res.status, json);
  return json;
}

export const q = (params) => new URLSearchParams(params).toString();
