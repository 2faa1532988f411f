/*
 * Giliran counter terminal.
 *
 * Everything shown comes from the REST API; the page refetches after each action and
 * whenever the office's room in the /counter namespace sends "update". "Next", and every
 * action on the ticket at the counter, sends an Idempotency-Key made once per intent: a
 * double click, or a retry after a network error, reuses it, so the server calls one
 * ticket, or finishes it once (a second finish would finish it at its next station too);
 * a new key is made only after an answer came.
 */
(() => {
  "use strict";

  const DATA = JSON.parse(document.getElementById("counter-data").textContent);
  const OFFICE = DATA.office;
  const COUNTER = DATA.counter;
  const TEXT = DATA.text;
  const STORAGE_KEY = `giliran.counter.${OFFICE}`;
  const POLL_MS = 15000;

  const $ = (id) => document.getElementById(id);

  // --- counter choice -----------------------------------------------------------------
  function remember(counterId) {
    try { localStorage.setItem(STORAGE_KEY, counterId); } catch (error) { /* private mode */ }
  }

  function recalled() {
    try { return localStorage.getItem(STORAGE_KEY); } catch (error) { return null; }
  }

  if (!COUNTER) {
    const params = new URLSearchParams(location.search);
    const stored = recalled();
    if (!params.has("pick") && !params.has("c") && stored
        && DATA.counters.some((c) => c.id === stored)) {
      params.set("c", stored);
      location.replace(`${location.pathname}?${params}`);
      return;
    }
    for (const link of document.querySelectorAll("a.pick")) {
      link.addEventListener("click", () => remember(link.dataset.counter));
    }
    return;
  }
  remember(COUNTER.id);

  // --- helpers ------------------------------------------------------------------------
  const {el, bi, fill} = window.GiliranDom;

  function hhmm(iso) {
    const match = /T(\d\d:\d\d(?::\d\d)?)/.exec(iso || "");
    return match ? match[1] : "";
  }

  function name(table, key) {
    return table[key] || {id: key || "", en: key || ""};
  }

  function withOffice(path) {
    return `${path}${path.includes("?") ? "&" : "?"}office=${encodeURIComponent(OFFICE)}`;
  }

  function newKey() {
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  class ApiError extends Error {
    constructor(status, error) {
      super(error && error.message ? error.message.en : `HTTP ${status}`);
      this.status = status;
      this.error = error || null;
    }
  }

  async function api(method, path, body, headers) {
    const options = {
      method,
      credentials: "same-origin",
      headers: Object.assign({Accept: "application/json"}, headers || {}),
    };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    const response = await fetch(withOffice(path), options);
    if (response.status === 204) return null;
    let payload = null;
    try { payload = await response.json(); } catch (error) { payload = null; }
    if (!response.ok) {
      if (response.status === 401) {
        showMessage(TEXT.session_expired, "error");
        setTimeout(() => {
          location.assign(`/login?next=${encodeURIComponent(location.pathname + location.search)}`);
        }, 1500);
      }
      throw new ApiError(response.status, payload && payload.error);
    }
    return payload;
  }

  // --- messages -----------------------------------------------------------------------
  let messageTimer = null;

  function showMessage(message, kind) {
    const box = $("message");
    $("message-id").textContent = message.id;
    $("message-en").textContent = message.en;
    box.className = `message message-${kind || "info"}`;
    box.hidden = false;
    clearTimeout(messageTimer);
    messageTimer = setTimeout(() => { box.hidden = true; }, kind === "error" ? 12000 : 5000);
  }

  function showError(error) {
    if (error instanceof ApiError && error.error && error.error.message) {
      showMessage(error.error.message, "error");
    } else {
      showMessage(TEXT.network, "error");
    }
  }

  // --- state and rendering ------------------------------------------------------------
  const state = {
    current: null,
    waiting: {},
    parked: [],
    timeline: [],
    busy: false,        // an action is in flight
    nextKey: null,      // the Idempotency-Key of the "next" intent not yet answered
    actionKey: null,    // {intent: "<ticket>:<action>", key} of an action not yet answered
    walkinKey: null,    // {intent: the form's body, key} of a walk-in not yet answered
    refreshSeq: 0,
    refreshTimer: null,
    connected: false,
  };
  window.giliranTerminal = state;

  // Which actions a ticket's state allows comes from the server (shared/lifecycle.py).
  function allows(ticket, action) {
    if (action === "next") return !ticket && COUNTER.open !== false;
    return Boolean(ticket) && (DATA.allowed_actions[ticket.status] || []).includes(action);
  }

  function renderButtons() {
    for (const button of document.querySelectorAll("#actions button[data-action]")) {
      const allowed = allows(state.current, button.dataset.action);
      button.disabled = state.busy || !allowed;
    }
    document.body.classList.toggle("is-busy", state.busy);
  }

  function renderCurrent() {
    const ticket = state.current;
    const box = $("current");
    box.classList.toggle("empty", !ticket);
    const facts = $("current-facts");
    facts.replaceChildren();
    if (!ticket) {
      $("current-number").textContent = "\u2014";
      $("current-status").replaceChildren(bi("span", "", TEXT.no_ticket));
      box.dataset.status = "";
      return;
    }
    $("current-number").textContent = ticket.number;
    box.dataset.status = ticket.status;
    const status = bi("span", `status status-${ticket.status}`, name(DATA.statuses, ticket.status));
    const extra = ticket.call_count > 1 ? ` \u00b7 ${fill(TEXT.calls, {count: ticket.call_count}).id}` : "";
    $("current-status").replaceChildren(status, extra);
    const add = (label, value) => {
      if (!value) return;
      facts.append(el("dt", "", `${label.id} / ${label.en}`), el("dd", "", value));
    };
    const service = name(DATA.services, ticket.service);
    add(TEXT.service, `${service.id} / ${service.en}`);
    const station = name(DATA.stations, ticket.station);
    add(TEXT.station, `${station.id} / ${station.en}`);
    if (ticket.slot) add(TEXT.slot, `${ticket.slot.start}\u2013${ticket.slot.end}`);
    if (ticket.priority_group) {
      const group = name(DATA.priority_groups, ticket.priority_group);
      add(TEXT.priority, `${group.id} / ${group.en}`);
    }
    add(TEXT.issued, hhmm(ticket.issued_at));
  }

  function renderTimeline() {
    const list = $("timeline");
    list.replaceChildren(...state.timeline.slice().reverse().map((entry) => {
      const li = el("li");
      li.append(el("span", "time", hhmm(entry.at)));
      li.append(bi("span", "what", name(DATA.actions, entry.action)));
      const where = [];
      if (entry.station) where.push(name(DATA.stations, entry.station).id);
      if (entry.counter) where.push(`#${entry.counter}`);
      if (entry.staff) where.push(entry.staff);
      const detail = entry.detail || {};
      if (detail.to_station) {
        where.push(`\u2192 ${name(DATA.stations, detail.to_station).id}`);
      }
      if (detail.reason) where.push(`\u201c${detail.reason}\u201d`);
      li.append(el("span", "where", where.join(" \u00b7 ")));
      return li;
    }));
  }

  function renderQueues() {
    const holder = $("queues");
    holder.replaceChildren();
    if (COUNTER.priority_only) holder.append(bi("p", "hint", TEXT.priority_only));
    for (const stationId of COUNTER.stations) {
      const station = name(DATA.stations, stationId);
      const tickets = (state.waiting[stationId] || [])
        .filter((t) => !COUNTER.priority_only || t.priority_group);
      const heading = el("h2", "", `${station.id} `);
      heading.append(el("span", "en", `/ ${station.en}`), el("span", "count", tickets.length));
      const table = el("table", "list queue");
      table.dataset.station = stationId;
      const body = el("tbody");
      if (tickets.length === 0) {
        const row = el("tr");
        const cell = bi("td", "empty", TEXT.empty_queue);
        cell.colSpan = 4;
        row.append(cell);
        body.append(row);
      }
      tickets.forEach((t, index) => {
        const row = el("tr");
        row.dataset.ticket = t.id;
        const flags = [];
        if (t.priority_group) flags.push(name(DATA.priority_groups, t.priority_group).id);
        if (t.demoted) flags.push(`${TEXT.late.id} / ${TEXT.late.en}`);
        row.append(el("td", "pos", index + 1), el("td", "number", t.number),
                   el("td", "slot", t.slot ? `${t.slot.start}\u2013${t.slot.end}` : flags.join(", ")),
                   el("td", "wait", fill(TEXT.minutes, {minutes: t.estimated_wait_minutes}).id));
        if (t.priority_group) row.classList.add("priority");
        body.append(row);
      });
      table.append(body);
      holder.append(heading, table);
    }
  }

  function renderParked() {
    const body = $("parked");
    body.replaceChildren();
    if (state.parked.length === 0) {
      const row = el("tr");
      const cell = bi("td", "empty", TEXT.empty_list);
      cell.colSpan = 4;
      row.append(cell);
      body.append(row);
      return;
    }
    for (const t of state.parked) {
      const row = el("tr");
      row.dataset.ticket = t.id;
      const status = bi("td", `status status-${t.status}`, name(DATA.statuses, t.status));
      const where = el("td", "where", name(DATA.stations, t.station).id);
      if (t.reason) where.append(el("span", "reason", ` \u00b7 ${t.reason}`));
      const buttons = el("td", "row-actions");
      const rowButton = (action, message) => {
        const button = bi("button", "small", message);
        button.type = "button";
        button.dataset.rowAction = action;
        button.dataset.ticket = t.id;
        button.dataset.number = t.number;
        button.disabled = state.busy;
        buttons.append(button);
      };
      if (allows(t, "resume")) rowButton("resume", TEXT.resume);
      if (allows(t, "reinstate")) rowButton("reinstate", TEXT.reinstate);
      if (allows(t, "cancel")) rowButton("cancel", TEXT.cancel);
      row.append(el("td", "number", t.number), status, where, buttons);
      body.append(row);
    }
  }

  function renderAll() {
    renderCurrent();
    renderButtons();
    renderTimeline();
    renderQueues();
    renderParked();
  }

  // --- fetching -----------------------------------------------------------------------
  async function refresh() {
    const seq = ++state.refreshSeq;
    try {
      const stations = COUNTER.stations;
      const [counterState, queues, parked] = await Promise.all([
        api("GET", `/api/v1/counters/${encodeURIComponent(COUNTER.id)}`),
        Promise.all(stations.map((s) => api("GET", `/api/v1/stations/${encodeURIComponent(s)}/queue`))),
        api("GET", `/counter/api/tickets?status=held,missed&station=${stations.map(encodeURIComponent).join(",")}`),
      ]);
      followCounter(counterState.counter);
      state.openCounters = counterState.open_counters || {};
      const current = counterState.current;
      const timeline = current
        ? (await api("GET", `/api/v1/tickets/${current.id}/timeline`)).timeline : [];
      if (seq !== state.refreshSeq) return;  // a newer refresh is on its way
      state.current = current;
      state.waiting = {};
      stations.forEach((s, i) => { state.waiting[s] = queues[i].waiting; });
      state.parked = parked.tickets;
      state.timeline = timeline;
      renderAll();
      document.body.dataset.loaded = "1";
    } catch (error) {
      if (seq === state.refreshSeq) showError(error);
    }
  }

  // The counter as the live configuration has it now (an admin may rename it, change its
  // stations or priority-only, close or open it while this page is open).
  function followCounter(live) {
    if (!live) return;
    const stationsChanged = JSON.stringify(live.stations) !== JSON.stringify(COUNTER.stations);
    Object.assign(COUNTER, live);
    const where = document.querySelector(".staff-head .where");
    if (where && live.name) where.textContent = live.name;
    const closed = $("counter-closed");
    if (closed) closed.hidden = COUNTER.open !== false;
    document.body.classList.toggle("counter-closed", COUNTER.open === false);
    if (stationsChanged) scheduleRefresh(0);  // the queues of its new stations
  }

  function scheduleRefresh(delay) {
    clearTimeout(state.refreshTimer);
    state.refreshTimer = setTimeout(refresh, delay === undefined ? 80 : delay);
  }

  // --- actions ------------------------------------------------------------------------
  async function run(work) {
    if (state.busy) return;
    state.busy = true;
    renderButtons();
    renderParked();
    try {
      await work();
    } catch (error) {
      showError(error);
    } finally {
      state.busy = false;
      renderButtons();
      await refresh();
    }
  }

  function callNext() {
    return run(async () => {
      if (!state.nextKey) state.nextKey = newKey();
      let answer;
      try {
        answer = await api("POST", `/api/v1/counters/${encodeURIComponent(COUNTER.id)}/next`,
                           {}, {"Idempotency-Key": state.nextKey});
      } catch (error) {
        // An answer from the server ends the intent; a network failure keeps the key so
        // that trying again cannot call a second person.
        if (error instanceof ApiError) state.nextKey = null;
        throw error;
      }
      state.nextKey = null;
      if (answer && answer.ticket) {
        state.current = answer.ticket;
        renderCurrent();
        showMessage(fill(TEXT.called, {number: answer.ticket.number}), "ok");
      } else {
        showMessage(TEXT.nobody_waiting, "info");
      }
    });
  }

  function act(ticketId, action, body) {
    return run(async () => {
      const intent = `${ticketId}:${action}`;
      if (!state.actionKey || state.actionKey.intent !== intent) {
        state.actionKey = {intent, key: newKey()};
      }
      try {
        // The counter it comes from: a ticket another counter has called since this
        // screen last heard is refused (not_at_counter), not acted on.
        await api("POST", `/api/v1/tickets/${ticketId}/${action}`,
                  Object.assign({counter: COUNTER.id}, body || {}),
                  {"Idempotency-Key": state.actionKey.key});
      } catch (error) {
        // As for "next": only an answer ends the intent.
        if (error instanceof ApiError) state.actionKey = null;
        throw error;
      }
      state.actionKey = null;
      showMessage(TEXT.done, "ok");
    });
  }

  function ask(dialogId, prepare) {
    return new Promise((resolve) => {
      const dialog = $(dialogId);
      if (prepare) prepare(dialog);
      dialog.returnValue = "";
      dialog.addEventListener("close", () => resolve(dialog.returnValue), {once: true});
      dialog.showModal();
    });
  }

  // Which stations have an open counter that would call this ticket: read again as the
  // dialog opens (an administrator may have closed one a moment ago).
  async function freshOpenCounters() {
    try {
      const answer = await api("GET", `/api/v1/counters/${encodeURIComponent(COUNTER.id)}`);
      state.openCounters = answer.open_counters || state.openCounters;
    } catch (error) { /* the last refresh's figures */ }
  }

  // A station where no open counter would call the ticket stays a choice (a counter may
  // open later), but says that the ticket would wait there until one does.
  function markStations(dialog, ticket) {
    const lane = ticket.priority_group ? "priority" : "regular";
    for (const button of dialog.querySelectorAll(".station-buttons button[value]")) {
      button.querySelector(".no-counter-note")?.remove();
      const counts = (state.openCounters || {})[button.value];
      const none = Boolean(counts) && counts[lane] === 0;
      button.classList.toggle("no-counter", none);
      if (none) button.append(bi("small", "no-counter-note", TEXT.no_open_counter));
    }
  }

  async function onAction(action) {
    if (action === "next") return callNext();
    const ticket = state.current;
    if (!ticket || state.busy) return undefined;
    if (action === "hold") {
      const answer = await ask("dlg-hold", (d) => {
        const input = d.querySelector("input[name=reason]");
        input.value = "";
        setTimeout(() => input.focus(), 0);
      });
      if (answer !== "ok") return undefined;
      const reason = $("dlg-hold").querySelector("input[name=reason]").value.trim();
      return act(ticket.id, "hold", reason ? {reason} : {});
    }
    if (action === "transfer") {
      await freshOpenCounters();
      const station = await ask("dlg-transfer", (d) => markStations(d, ticket));
      if (!station || station === "cancel") return undefined;
      return act(ticket.id, "transfer", {station});
    }
    if (action === "cancel") {
      return confirmCancel(ticket.id, ticket.number);
    }
    return act(ticket.id, action);
  }

  async function confirmCancel(ticketId, number) {
    const answer = await ask("dlg-cancel", () => {
      const text = fill(TEXT.confirm_cancel, {number});
      const p = $("dlg-cancel-text");
      p.replaceChildren(text.id, el("br"), el("span", "en", text.en));
    });
    if (answer === "ok") await act(ticketId, "cancel");
  }

  document.getElementById("actions").addEventListener("click", (event) => {
    const button = event.target.closest("button[data-action]");
    if (button && !button.disabled) onAction(button.dataset.action);
  });

  $("parked").addEventListener("click", (event) => {
    const button = event.target.closest("button[data-row-action]");
    if (!button || button.disabled) return;
    const action = button.dataset.rowAction;
    if (action === "cancel") confirmCancel(button.dataset.ticket, button.dataset.number);
    else act(button.dataset.ticket, action);
  });

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.altKey || event.metaKey || event.repeat) return;
    const target = event.target;
    if (target && (target.closest("input, select, textarea, dialog, details[open] form"))) return;
    if (document.querySelector("dialog[open]")) return;
    const button = document.querySelector(
      `#actions button[data-key="${CSS.escape(event.key.toLowerCase())}"]`);
    if (!button) return;
    event.preventDefault();
    if (!button.disabled) onAction(button.dataset.action);
  });

  $("walkin-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const form = event.target;
    // The ticket prints on this counter's printer when one is configured (counter-<id>).
    const body = {service: form.service.value, priority_group: form.priority_group.value || null,
                  counter: COUNTER.id};
    // One key per ticket asked for, kept across a network error: the form sent again
    // after a lost answer gets the same ticket, not a second number.
    const intent = JSON.stringify(body);
    if (!state.walkinKey || state.walkinKey.intent !== intent) {
      state.walkinKey = {intent, key: newKey()};
    }
    run(async () => {
      let answer;
      try {
        answer = await api("POST", "/api/v1/walkins", body,
                           {"Idempotency-Key": state.walkinKey.key});
      } catch (error) {
        if (error instanceof ApiError) state.walkinKey = null;
        throw error;
      }
      state.walkinKey = null;
      showMessage(fill(TEXT.walkin_issued, {number: answer.ticket.number}), "ok");
    });
  });

  // --- live updates -------------------------------------------------------------------
  function setOffline(offline) {
    $("mark-offline").hidden = !offline;
  }

  function connect() {
    if (typeof window.io !== "function") {
      setOffline(true);
      return;
    }
    const socket = window.io("/counter", {
      transports: ["websocket"],
      reconnectionDelay: 400,
      reconnectionDelayMax: 2000,
      randomizationFactor: 0.3,
    });
    state.socket = socket;
    if (window.giliranReloadWhenDropped) window.giliranReloadWhenDropped(socket);
    socket.on("connect", () => {
      state.connected = true;
      setOffline(false);
      socket.emit("join", {office: OFFICE}, () => scheduleRefresh(0));
    });
    socket.on("disconnect", () => { state.connected = false; setOffline(true); });
    socket.on("connect_error", () => setOffline(true));
    socket.on("update", () => scheduleRefresh());
  }

  renderAll();
  refresh();
  connect();
  setInterval(() => { if (!state.busy) refresh(); }, POLL_MS);
})();
