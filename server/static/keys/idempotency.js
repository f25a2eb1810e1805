// One Idempotency-Key per press or tap, shared by the kiosk and the clerk's page: the
// same key goes with every retry of that press, so a retry after a lost answer gets back
// what the first attempt did (the same ticket, the same call), never a second one.

// crypto.randomUUID exists only on https:// or localhost; kiosks often use http://LAN-address.
export function newKey() {
  if (window.crypto && typeof window.crypto.randomUUID === "function" && window.isSecureContext) {
    return window.crypto.randomUUID();
  }
  const bytes = new Uint8Array(16);
  window.crypto.getRandomValues(bytes);
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
