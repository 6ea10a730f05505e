/* Service worker of the alerts page: shows a Web Push alert as a notification, opens the page on tap. */
self.addEventListener("push", (event) => {
  let data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch (e) {
    data = {};
  }
  const title = data.headline || data.event || "Alerte officielle";
  event.waitUntil(
    self.registration.showNotification(title, {
      body: data.msg_type === "Cancel" ? "Fin de l'alerte / alert cancelled" : data.event || "",
      tag: data.alert_id,
      requireInteraction: data.msg_type !== "Cancel",
      data: { url: data.url || "/alerts" },
    }),
  );
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const url = new URL((event.notification.data && event.notification.data.url) || "/alerts", self.location.origin);
  if (url.origin !== self.location.origin) return;
  event.waitUntil(self.clients.openWindow(url.pathname + url.hash));
});
