// The REST API as the workstation calls it: with the login session's cookie and the page's
// CSRF token. Every answer comes back as {ok, data} or {ok: false, problem}; a refusal's
// `detail` is the Vietnamese sentence to show the clerk.

export function makeApi({ base, csrf, texts }) {
  async function send(method, path, body) {
    let response;
    try {
      response = await fetch(base + path, {
        method,
        credentials: "same-origin",
        headers: {
          Accept: "application/json",
          ...(method === "GET" ? {} : { "Content-Type": "application/json", "X-CSRFToken": csrf }),
        },
        body: method === "GET" ? undefined : JSON.stringify(body || {}),
      });
    } catch (_error) {
      return { ok: false, problem: { code: "network", detail: texts.network } };
    }
    const data = await response.json().catch(() => null);
    if (response.ok) return { ok: true, data };
    const problem = data && typeof data === "object" ? data : {};
    let detail = problem.detail || texts.failed;
    // A field that failed validation: say which rule, not only that something was wrong.
    if (Array.isArray(problem.errors) && problem.errors.length && problem.errors[0].message) {
      detail = `${detail} ${problem.errors[0].message}`;
    }
    return { ok: false, problem: { ...problem, code: problem.code || "http_" + response.status, detail } };
  }

  return {
    get: (path) => send("GET", path),
    post: (path, body) => send("POST", path, body),
  };
}
