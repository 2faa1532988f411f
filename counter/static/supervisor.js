/*
 * Giliran supervisor view: every counter, every station's queue and longest wait, today's
 * totals and the health of printers and devices. Refetches /counter/api/overview on each
 * "update" in the /counter namespace (and every few seconds, since waits grow by themselves).
 */
(() => {
  "use strict";

  const DATA = JSON.parse(document.getElementById("supervisor-data").textContent);
  const OFFICE = DATA.office;
  const TEXT = DATA.text;
  const POLL_MS = 10000;
  const HEALTH_MS = 15000;
  const LONG_CALL_MINUTES = 15;

  const $ = (id) => document.getElementById(id);
  const state = {overview: null, health: null, seq: 0, timer: null};
  window.giliranSupervisor = state;

  const {el, bi, fill} = window.GiliranDom;

  function name(table, key) {
    return table[key] || {id: key || "", en: key || ""};
  }

  function showError(message) {
    const box = $("message");
    if (!message) { box.hidden = true; return; }
    $("message-id").textContent = message.id;
    $("message-en").textContent = message.en;
    box.hidden = false;
  }

  async function getJson(path) {
    const response = await fetch(path, {credentials: "same-origin",
                                        headers: {Accept: "application/json"}});
    let body = null;
    try { body = await response.json(); } catch (error) { body = null; }
    return {status: response.status, body};
  }

  function renderTotals(o) {
    const serving = o.counters.filter((c) => c.current).length;
    const values = {waiting: o.today.waiting, serving, held: o.today.held,
                    no_shows: o.today.no_shows, done: o.today.done, tickets: o.today.tickets};
    for (const box of document.querySelectorAll("[data-total]")) {
      const value = values[box.dataset.total];
      box.querySelector(".value").textContent = value === undefined ? "\u2013" : value;
      box.classList.toggle("alert", box.dataset.total === "no_shows" && value > 0);
    }
  }

  function renderCounters(o) {
    $("counters").replaceChildren(...o.counters.map((c) => {
      const card = el("div", "counter-card");
      card.dataset.counter = c.id;
      card.append(el("div", "cname", c.name));
      if (c.current) {
        card.classList.add(c.current.status);
        if ((c.current.minutes || 0) >= LONG_CALL_MINUTES) card.classList.add("long");
        card.append(el("div", "cnumber", c.current.number));
        const status = bi("div", "cstatus", name(DATA.statuses, c.current.status));
        status.append(el("span", "en",
          ` \u00b7 ${fill(TEXT.minutes, {minutes: c.current.minutes || 0}).id}`));
        card.append(status);
      } else if (c.open === false) {
        // Closed by an administrator: it calls nobody (not an idle counter to send people to).
        card.classList.add("idle", "closed");
        card.append(el("div", "cnumber", "\u2014"), bi("div", "cstatus", TEXT.counter_closed));
      } else {
        card.classList.add("idle");
        card.append(el("div", "cnumber", "\u2014"), bi("div", "cstatus", TEXT.idle));
      }
      const stations = c.stations.map((s) => name(DATA.stations, s).id).join(", ");
      card.append(el("div", "en", stations));
      return card;
    }));
  }

  function renderStations(o) {
    $("stations").replaceChildren(...o.stations.map((s) => {
      const row = el("tr");
      row.dataset.station = s.id;
      const label = el("td", "", s.name.id);
      label.append(" ", el("span", "en", `/ ${s.name.en}`));
      const wait = el("td", "num wait", s.waiting
        ? `${fill(TEXT.minutes, {minutes: s.longest_wait_minutes}).id} (${s.longest_waiting_number})`
        : "\u2013");
      if (s.longest_wait_minutes >= 60) row.classList.add("late");
      row.append(label, el("td", "num", s.waiting), el("td", "num", s.being_served), wait);
      return row;
    }));
  }

  // Device times come from the server in UTC (ISO 8601 with an offset): staff read them in
  // the office's own zone, "DD-MM-YYYY HH:MM:SS WITA", whatever the browser's zone is.
  const ISO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)$/;
  const OFFICE_TIME = new Intl.DateTimeFormat("en-GB", {
    timeZone: DATA.timezone, year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false,
  });

  function officeTime(text) {
    if (typeof text !== "string" || !ISO_TIME.test(text)) return null;
    const at = new Date(text);
    if (Number.isNaN(at.getTime())) return null;
    const parts = Object.fromEntries(OFFICE_TIME.formatToParts(at).map((p) => [p.type, p.value]));
    return `${parts.day}-${parts.month}-${parts.year} ${parts.hour}:${parts.minute}:` +
      `${parts.second} ${DATA.zone_name}`;
  }

  function describe(value) {
    if (value === null || value === undefined) return "";
    if (typeof value !== "object") return officeTime(value) || String(value);
    // Plain facts in full; nested tables (a bus's displays, say) as a count.
    return Object.entries(value)
      .filter(([, v]) => v !== null && v !== undefined && v !== "")
      .map(([k, v]) => (typeof v === "object" ? `${k}: ${Object.keys(v).length}`
        : `${k}: ${officeTime(v) || v}`))
      .join(" \u00b7 ");
  }
  window.giliranSupervisor.officeTime = officeTime;

  function isBad(value) {
    if (value === null || typeof value !== "object") {
      return !["ok", "up", "ready", "online", true].includes(value);
    }
    if (value.stale) return true;  // the process that knew it stopped reporting
    if ("alert" in value) return Boolean(value.alert);  // the printers say it themselves
    if ("status" in value && typeof value.status !== "object") return isBad(value.status);
    if ("ok" in value) return !value.ok;
    return false;
  }

  function renderHealth(h) {
    const items = [];
    const add = (label, value, bad) => {
      const li = el("li", bad ? "bad" : "", label);
      const detail = describe(value);
      if (detail) li.append(" ", el("span", "detail", detail));
      items.push(li);
    };
    if (!h) {
      add(`${TEXT.server.id} / ${TEXT.server.en}`, TEXT.offline.id, true);
    } else {
      add(`${TEXT.database.id} / ${TEXT.database.en}`, h.db, h.db !== "ok");
      const printers = h.printers || {};
      for (const [id, value] of Object.entries(printers)) {
        // A printer in trouble says what to do (hardware/printing: its alert message).
        const {message, ...facts} = value || {};
        add(`Printer ${id}`, facts, isBad(value));
        if (message) items[items.length - 1].append(" ", bi("strong", "printer-alert", message));
      }
      const devices = h.devices || {};
      for (const [bus, value] of Object.entries(devices)) {
        if (value && typeof value === "object" && !("status" in value)) {
          for (const [address, device] of Object.entries(value)) {
            add(`${bus} \u00b7 ${address}`, device, isBad(device));
          }
        } else {
          add(bus, value, isBad(value));
        }
      }
      if (Object.keys(printers).length === 0 && Object.keys(devices).length === 0) {
        items.push(bi("li", "", TEXT.no_hardware));
      }
    }
    $("health").replaceChildren(...items);
  }

  async function refresh() {
    const seq = ++state.seq;
    try {
      const answer = await getJson(`/counter/api/overview?office=${encodeURIComponent(OFFICE)}`);
      if (seq !== state.seq) return;
      if (answer.status === 401) {
        location.assign(`/login?next=${encodeURIComponent(location.pathname + location.search)}`);
        return;
      }
      if (answer.status !== 200) {
        showError(answer.body && answer.body.error ? answer.body.error.message : TEXT.network);
        return;
      }
      showError(null);
      state.overview = answer.body;
      renderTotals(answer.body);
      renderCounters(answer.body);
      renderStations(answer.body);
      document.body.dataset.loaded = "1";
    } catch (error) {
      if (seq === state.seq) showError(TEXT.network);
    }
  }

  async function refreshHealth() {
    try {
      // This office's printers and buses, as every process knows them (not /api/v1/health:
      // every office's, and only those of the process that answers).
      const answer = await getJson(`/counter/api/health?office=${encodeURIComponent(OFFICE)}`);
      if (answer.status !== 200) throw new Error(`HTTP ${answer.status}`);
      state.health = answer.body;
      renderHealth(answer.body);
    } catch (error) {
      state.health = null;
      renderHealth(null);
    }
  }

  function scheduleRefresh() {
    clearTimeout(state.timer);
    state.timer = setTimeout(refresh, 100);
  }

  function connect() {
    if (typeof window.io !== "function") return;
    const socket = window.io("/counter", {transports: ["websocket"], reconnectionDelay: 400,
                                          reconnectionDelayMax: 2000});
    if (window.giliranReloadWhenDropped) window.giliranReloadWhenDropped(socket);
    socket.on("connect", () => {
      $("mark-offline").hidden = true;
      socket.emit("join", {office: OFFICE}, () => { refresh(); refreshHealth(); });
    });
    socket.on("disconnect", () => { $("mark-offline").hidden = false; });
    socket.on("connect_error", () => { $("mark-offline").hidden = false; });
    socket.on("update", scheduleRefresh);
  }

  refresh();
  refreshHealth();
  connect();
  setInterval(refresh, POLL_MS);
  setInterval(refreshHealth, HEALTH_MS);
})();
