// The applicant's ticket on their phone: polls GET /api/v1/t/<token>.json every few
// seconds (simple, and it survives flaky mobile data) and rewrites the page.
(function () {
  "use strict";

  const root = document.getElementById("status");
  const settings = JSON.parse(document.getElementById("status-settings").textContent);
  const byId = (id) => document.getElementById(id);
  const ACTIVE = ["waiting", "called", "serving", "held"];

  function fill(text, values) {
    return String(text).replace(/\{(\w+)\}/g, (whole, key) =>
      (values && key in values ? String(values[key]) : whole));
  }

  function msg(source, values) {
    const pair = settings.messages[source] || { id: source, en: source };
    return { id: fill(pair.id, values), en: fill(pair.en, values) };
  }

  function setPair(element, pair) {
    const text = pair && typeof pair.id === "string" ? pair : { id: "", en: "" };
    element.querySelector(".l-id").textContent = text.id;
    element.querySelector(".l-en").textContent = text.en;
  }

  function render(ticket) {
    const names = settings.names;
    byId("status-number").textContent = ticket.number;
    document.title = `${ticket.number} · Giliran`;
    setPair(byId("status-state"), settings.status_words[ticket.status] ||
            { id: ticket.status, en: ticket.status });
    const called = ticket.status === "called" && ticket.counter;
    if (called && root.dataset.status !== "called" && navigator.vibrate) {
      navigator.vibrate([300, 150, 300]);  // the phone buzzes when the number is called
    }
    byId("status-called").hidden = !called;
    if (called) {
      const counter = names.counters[ticket.counter] || ticket.counter;
      setPair(byId("status-called"), msg("Called: go to {counter}", { counter }));
    }
    root.dataset.status = ticket.status;
    byId("status-survey").hidden = ticket.status !== "done";
    setPair(byId("status-service"), names.services[ticket.service]);
    const slot = ticket.slot && ticket.slot.start ? `${ticket.slot.start}–${ticket.slot.end}` : "";
    byId("status-slot").textContent = slot;
    byId("row-slot").hidden = !slot;
    const active = ACTIVE.includes(ticket.status);
    setPair(byId("status-station"), names.stations[ticket.station]);
    byId("row-station").hidden = !active;
    const waiting = ticket.status === "waiting" && ticket.position != null;
    byId("status-position").textContent = waiting ? String(ticket.position) : "";
    byId("row-position").hidden = !waiting;
    byId("row-wait").hidden = !waiting;
    const minutes = Number(ticket.estimated_wait_minutes) || 0;
    setPair(byId("status-wait"), minutes >= 1 ? msg("about {minutes} min", { minutes })
      : msg("less than a minute"));
    const now = new Date();
    const time = `${String(now.getHours()).padStart(2, "0")}:${String(now.getMinutes()).padStart(2, "0")}`;
    setPair(byId("status-updated"), msg("Updated {time}", { time }));
  }

  async function poll() {
    try {
      const response = await fetch(settings.api_url, { headers: { Accept: "application/json" },
                                                        cache: "no-store" });
      if (response.ok) {
        const data = await response.json();
        if (data && data.ticket) render(data.ticket);
        byId("status-offline").hidden = true;
      } else if (response.status >= 500) {
        byId("status-offline").hidden = false;
      }
    } catch (error) {
      byId("status-offline").hidden = false;
    }
    setTimeout(poll, settings.poll_seconds * 1000);
  }

  render(settings.ticket);
  root.dataset.ready = "true";
  setTimeout(poll, settings.poll_seconds * 1000);
})();
