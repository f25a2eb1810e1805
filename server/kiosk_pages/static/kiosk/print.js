// Browser printing: the ticket page (kiosk/slip.html) loads in a hidden frame and prints
// itself; it tells us when window.print() returned.

const PRINT_WAIT_MS = 15000;

export function printSlip(frame, url) {
  return new Promise((resolve) => {
    let timer = null;
    const finish = (printed) => {
      clearTimeout(timer);
      window.removeEventListener("message", onMessage);
      resolve(printed);
    };
    const onMessage = (event) => {
      if (event.origin !== location.origin || event.source !== frame.contentWindow) return;
      if (event.data && event.data.type === "xephang-slip") finish(Boolean(event.data.printed));
    };
    window.addEventListener("message", onMessage);
    timer = setTimeout(() => finish(false), PRINT_WAIT_MS);
    const target = new URL(url, location.href);
    target.searchParams.set("print", "1");
    frame.src = target.toString();
  });
}
