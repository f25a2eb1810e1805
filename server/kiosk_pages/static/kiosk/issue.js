// Taking a number: one Idempotency-Key per tap, the same key on every retry, so a retry
// after a lost answer gives back the ticket already made, never a second one.

import { newKey } from "/static/keys/idempotency.js";

const RETRY_DELAYS_MS = [0, 800, 1500, 2500, 4000];
const ATTEMPT_TIMEOUT_MS = 10000;

export { newKey };

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function attempt(url, token, key, body) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), ATTEMPT_TIMEOUT_MS);
  try {
    const response = await fetch(url, {
      method: "POST",
      headers: {
        Authorization: `Bearer ${token}`,
        "Content-Type": "application/json",
        "Idempotency-Key": key,
      },
      body: JSON.stringify(body),
      cache: "no-store",
      signal: controller.signal,
    });
    let data = null;
    try {
      data = await response.json();
    } catch (err) {
      data = null;
    }
    return { status: response.status, data };
  } finally {
    clearTimeout(timer);
  }
}

// {ok: true, data} | {ok: false, problem} (refused) | {ok: false, problem: null} (unreachable)
export async function issueTicket(url, token, body, key = newKey()) {
  for (const delay of RETRY_DELAYS_MS) {
    await sleep(delay);
    let result;
    try {
      result = await attempt(url, token, key, body);
    } catch (err) {
      continue; // network down or no answer in time: the same key again
    }
    if (result.status === 200 || result.status === 201) return { ok: true, data: result.data };
    const retryable = result.status >= 500 || result.status === 429 || result.status === 408;
    if (!retryable) return { ok: false, problem: result.data || { status: result.status } };
  }
  return { ok: false, problem: null };
}
