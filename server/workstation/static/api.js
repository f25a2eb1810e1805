// The REST API as the workstation calls it: with the login session's cookie and the page's
// CSRF token. Every answer comes back as {ok, data} or {ok: false, problem}; a refusal's
// `detail` is the Vietnamese sentence to show the clerk.
//
// A press sent with an Idempotency-Key (`post(path, body, {key})`) is sent again with the
// same key when its answer is lost (no connection, a restart): the server answers a repeat
// with what the first attempt did, so a call is never made twice nor ends its own ticket.

const RETRY_DELAYS_MS = [800, 1500, 2500, 4000];
const RETRIED_STATUSES = [408, 429, 502, 503, 504];

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export function makeApi({ base, csrf, texts }) {
  async function send(method, path, body, key) {
    let response;
    const headers = {
      Accept: "application/json",
      ...(method === "GET" ? {} : { "Content-Type": "application/json", "X-CSRFToken": csrf }),
      ...(key ? { "Idempotency-Key": key } : {}),
    };
    try {
      response = await fetch(base + path, {
        method,
        credentials: "same-origin",
        headers,
        body: method === "GET" ? undefined : JSON.stringify(body || {}),
      });
    } catch (_error) {
      return { ok: false, retry: true, problem: { code: "network", detail: texts.network } };
    }
    const data = await response.json().catch(() => null);
    if (response.ok) return { ok: true, data };
    const problem = data && typeof data === "object" ? data : {};
    let detail = problem.detail || texts.failed;
    // A field that failed validation: say which rule, not only that something was wrong.
    if (Array.isArray(problem.errors) && problem.errors.length && problem.errors[0].message) {
      detail = `${detail} ${problem.errors[0].message}`;
    }
    return {
      ok: false,
      retry: RETRIED_STATUSES.includes(response.status),
      problem: { ...problem, code: problem.code || "http_" + response.status, detail },
    };
  }

  async function post(path, body, { key = null } = {}) {
    let result = await send("POST", path, body, key);
    for (const delay of key ? RETRY_DELAYS_MS : []) {
      if (result.ok || !result.retry) break;
      await sleep(delay);
      result = await send("POST", path, body, key);
    }
    return result;
  }

  return {
    get: (path) => send("GET", path),
    post,
  };
}
