// The phone page's service worker: only so that Android's browsers can show the call as a
// notification (they show none from a page itself); it caches nothing.

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  event.waitUntil(
    self.clients.matchAll({ type: "window", includeUncontrolled: true }).then((pages) => {
      const page = pages.find((p) => p.url.includes("/t/"));
      return page ? page.focus() : undefined;
    })
  );
});
