// The applicant's ticket on their phone. Changes are pushed in the /ticket Socket.IO
// namespace (a room per ticket, joined with the status token); each push carries the
// server's time in the office's zone, which "Updated hh:mm" shows (never the phone's own
// clock). Only while that connection is down does the page poll GET /api/v1/t/<token>.json,
// slowly, taking the time from the answer's Date header.
(function () {
  "use strict";

  const root = document.getElementById("status");
  const settings = JSON.parse(document.getElementById("status-settings").textContent);
  const byId = (id) => document.getElementById(id);
  const STATES = settings.states;  // shared/lifecycle.py's names, from the page
  // lastGoodAt: when the server last confirmed the ticket (the page itself, a push, a poll).
  const state = { pushes: 0, polls: 0, connected: false, updated: null, socket: null,
                  lastGoodAt: Date.now() };
  window.ticketStatus = state;  // for support and tests
  let pollTimer = null;

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
    if (!ticket || typeof ticket.number !== "string") return;
    const names = settings.names;
    byId("status-number").textContent = ticket.number;
    document.title = `${ticket.number} · Giliran`;
    setPair(byId("status-state"), settings.status_words[ticket.status] ||
            { id: ticket.status, en: ticket.status });
    const called = ticket.status === STATES.called && ticket.counter;
    if (called && root.dataset.status !== STATES.called && navigator.vibrate) {
      navigator.vibrate([300, 150, 300]);  // the phone buzzes when the number is called
    }
    byId("status-called").hidden = !called;
    if (called) {
      const counter = names.counters[ticket.counter] || ticket.counter;
      setPair(byId("status-called"), msg("Called: go to {counter}", { counter }));
    }
    root.dataset.status = ticket.status;
    byId("status-survey").hidden = ticket.status !== STATES.done;
    setPair(byId("status-service"), names.services[ticket.service]);
    const slot = ticket.slot && ticket.slot.start ? `${ticket.slot.start}–${ticket.slot.end}` : "";
    byId("status-slot").textContent = slot;
    byId("row-slot").hidden = !slot;
    const active = STATES.active.includes(ticket.status);
    setPair(byId("status-station"), names.stations[ticket.station]);
    byId("row-station").hidden = !active;
    const waiting = ticket.status === STATES.waiting && ticket.position != null;
    byId("status-position").textContent = waiting ? String(ticket.position) : "";
    byId("row-position").hidden = !waiting;
    byId("row-wait").hidden = !waiting;
    const minutes = Number(ticket.estimated_wait_minutes) || 0;
    setPair(byId("status-wait"), minutes >= 1 ? msg("about {minutes} min", { minutes })
      : msg("less than a minute"));
  }

  // The server's time: "HH:MM" of an office-local ISO time.
  function showUpdated(localIso) {
    const match = /T(\d\d):(\d\d)/.exec(localIso || "");
    if (!match) return;
    state.updated = `${match[1]}:${match[2]}`;
    setPair(byId("status-updated"), msg("Updated {time}", { time: state.updated }));
  }

  // A Date header (UTC) as office-local ISO time.
  function fromDateHeader(value) {
    const at = Date.parse(value || "");
    if (Number.isNaN(at)) return null;
    return new Date(at + settings.utc_offset_minutes * 60000).toISOString();
  }

  function setOffline(offline) {
    byId("status-offline").hidden = !offline;
  }

  // --- the fallback: poll while the push connection is down ----------------------------
  async function poll() {
    pollTimer = null;
    state.polls += 1;
    try {
      const response = await fetch(settings.api_url, { headers: { Accept: "application/json" },
                                                        cache: "no-store" });
      if (response.ok) {
        const data = await response.json();
        if (data && data.ticket) {
          render(data.ticket);
          showUpdated(fromDateHeader(response.headers.get("Date")));
        }
        state.lastGoodAt = Date.now();
        setOffline(false);
      } else if (response.status >= 500) {
        setOffline(true);
      }
    } catch (error) {
      setOffline(true);
    }
    if (!state.connected) pollTimer = setTimeout(poll, settings.fallback_poll_seconds * 1000);
  }

  function startPolling() {
    if (!pollTimer) pollTimer = setTimeout(poll, settings.fallback_poll_seconds * 1000);
  }

  function stopPolling() {
    if (pollTimer) clearTimeout(pollTimer);
    pollTimer = null;
  }

  // --- the push connection -------------------------------------------------------------
  function connect() {
    if (typeof window.io !== "function") {
      startPolling();
      return;
    }
    const socket = window.io(settings.socket_namespace, {
      transports: ["websocket"],
      query: { ticket: settings.token },
      reconnectionDelay: 1000,
      reconnectionDelayMax: 10000,
    });
    state.socket = socket;
    socket.on("connect", () => {
      state.connected = true;
      stopPolling();
      setOffline(false);
    });
    socket.on("ticket", (data) => {
      if (!data || !data.ticket) return;
      state.pushes += 1;
      render(data.ticket);
      showUpdated(data.now);
      state.lastGoodAt = Date.now();
      setOffline(false);
    });
    // The push connection failed. On a network that lets no websocket through it fails at
    // every try, while the polls keep the page current: "no connection" only once nothing
    // has confirmed the ticket for longer than one poll's interval and a half.
    const lost = () => {
      state.connected = false;
      setOffline(Date.now() - state.lastGoodAt > settings.fallback_poll_seconds * 1500);
      startPolling();
    };
    socket.on("disconnect", lost);
    socket.on("connect_error", lost);
  }

  render(settings.ticket);
  showUpdated(settings.now);
  root.dataset.ready = "true";
  connect();
})();
