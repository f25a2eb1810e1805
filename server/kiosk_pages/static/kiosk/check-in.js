// Numbers taken from home arrive here: the 6-digit code typed on the screen's keypad, or the
// ticket's QR code held to a scanner (a scanner "types" the tracking link, then Enter).

const CODE_LENGTH = 6;
const SCAN_GAP_MS = 300; // a scanner types far faster; a longer pause starts a new reading
const TOKEN_IN_LINK = /\/t\/([A-Za-z0-9_-]{16,64})\s*$/;

// The QR code the server drew as one SVG path ({size, path}).
export function drawQr(svg, qr) {
  svg.setAttribute("viewBox", `0 0 ${qr.size} ${qr.size}`);
  const paper = svg.querySelector("rect");
  paper.setAttribute("width", String(qr.size));
  paper.setAttribute("height", String(qr.size));
  svg.querySelector("path").setAttribute("d", qr.path);
}

export function checkInUrl(issueUrl) {
  return issueUrl.replace(/\/tickets$/, "/check-in");
}

// keypad: the screen's elements; onCode(code) and onToken(token) send the check-in;
// canScan() says whether a scanned link may be taken now (not while a number is being issued).
export function wireCheckIn({ display, keypad, ok, clear, onCode, onToken, canScan }) {
  let code = "";
  const render = () => {
    display.textContent = code.padEnd(CODE_LENGTH, "·");
    ok.disabled = code.length !== CODE_LENGTH;
  };
  const reset = () => {
    code = "";
    render();
  };
  keypad.addEventListener("click", (event) => {
    const key = event.target.closest("[data-digit]");
    if (key && code.length < CODE_LENGTH) code += key.dataset.digit;
    render();
  });
  clear.addEventListener("click", () => {
    code = code.slice(0, -1);
    render();
  });
  ok.addEventListener("click", () => {
    if (code.length === CODE_LENGTH) onCode(code);
  });

  let typed = "";
  let last = 0;
  document.addEventListener("keydown", (event) => {
    const now = Date.now();
    if (now - last > SCAN_GAP_MS) typed = "";
    last = now;
    if (event.key === "Enter") {
      const found = TOKEN_IN_LINK.exec(typed);
      typed = "";
      if (found && canScan()) {
        event.preventDefault();
        onToken(found[1]);
      }
      return;
    }
    if (event.key.length === 1) typed = (typed + event.key).slice(-200);
  });
  render();
  return { reset };
}
