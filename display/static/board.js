/*
 * Giliran waiting-room board.
 *
 * State comes from the server as versioned messages in the /display namespace:
 *   snapshot {version, now, now_serving, recent, waiting, stations, serving_slot, info}
 *   called   {version, number, counter, counter_name, station, recall, announce, repeat}
 * A snapshot is applied only when its version is >= the last one applied. A "called" whose
 * `previous` (the last version the server sent to the room) is newer than the board's
 * last version means messages were missed, so the board asks for a snapshot. Every
 * "called" is spoken once (by version), even when a snapshot already showed it. After a
 * reconnect the board joins again and takes the join snapshot whatever its version (the
 * server may have been restored from a backup).
 */
(() => {
  "use strict";

  const DATA = JSON.parse(document.getElementById("board-data").textContent);
  const OFFICE = DATA.office;
  const TEXT = DATA.text;
  const DAYS_EN = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];
  const MONTHS_EN = ["January", "February", "March", "April", "May", "June", "July", "August",
    "September", "October", "November", "December"];
  const SERVING_TILES = 6;
  const RECENT_ROWS = 7;
  const ANNOUNCED_KEEP = 500;
  const SOUND_REPORT_SECONDS = 30;

  const $ = (id) => document.getElementById(id);
  const els = {
    board: $("board"),
    hero: $("hero"),
    heroNumber: $("hero-number"),
    heroCounter: $("hero-counter"),
    serving: $("serving"),
    recent: $("recent"),
    waiting: $("waiting"),
    slot: $("slot"),
    ticker: $("ticker-track"),
    clockTime: $("clock-time"),
    clockDate: $("clock-date"),
    offline: $("mark-offline"),
    audio: $("mark-audio"),
    refused: $("mark-refused"),
  };

  const state = {
    lastVersion: -1,
    snapshot: null,
    announced: new Set(),
    newestKey: null,
    clockOffsetMs: 0,      // office clock minus this browser's clock
    tzOffsetMinutes: 0,    // the office's UTC offset
    infoText: null,
    connected: false,
    gapRequests: 0,
    officeDay: null,       // the office's date the picture is of (a TV stays on overnight)
    dayRequests: 0,
    joined: false,
    soundReports: [],
  };
  window.giliranBoard = state;  // for the curious and for tests

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function hhmm(iso) {
    const match = /T(\d\d:\d\d)/.exec(iso || "");
    return match ? match[1] : "";
  }

  // --- clock in office time -----------------------------------------------------------
  function syncClock(nowIso) {
    const at = Date.parse(nowIso);
    if (Number.isNaN(at)) return;
    state.clockOffsetMs = at - Date.now();
    const zone = /([+-])(\d\d):(\d\d)$/.exec(nowIso);
    state.tzOffsetMinutes = zone
      ? (zone[1] === "-" ? -1 : 1) * (Number(zone[2]) * 60 + Number(zone[3])) : 0;
    tick();
  }

  function tick() {
    const local = new Date(Date.now() + state.clockOffsetMs + state.tzOffsetMinutes * 60000);
    const hours = String(local.getUTCHours()).padStart(2, "0");
    const minutes = String(local.getUTCMinutes()).padStart(2, "0");
    els.clockTime.textContent = `${hours}:${minutes}`;
    const weekday = (local.getUTCDay() + 6) % 7;  // Monday first
    const day = local.getUTCDate();
    const month = local.getUTCMonth();
    const year = local.getUTCFullYear();
    newDay(`${year}-${month + 1}-${day}`);
    els.clockDate.textContent = "";
    els.clockDate.append(
      `${DATA.days_id[weekday]}, ${day} ${DATA.months_id[month]} ${year}`,
      el("span", "en", ` / ${DAYS_EN[weekday]}, ${day} ${MONTHS_EN[month]} ${year}`));
  }

  // At the office's midnight yesterday's calls leave the screen: the board asks for
  // today's picture (nothing changes in the office overnight, so no snapshot would come
  // until the first check-in of the morning, and early arrivals would read yesterday's
  // numbers as called).
  function newDay(officeDay) {
    if (state.officeDay === null || !state.snapshot) {
      state.officeDay = officeDay;
      return;
    }
    if (officeDay === state.officeDay || !state.socket || !state.joined) return;
    state.officeDay = officeDay;
    state.dayRequests += 1;
    state.socket.emit("snapshot", {office: OFFICE});
  }

  // --- rendering ----------------------------------------------------------------------
  function flashHero() {
    els.hero.classList.remove("flash");
    void els.hero.offsetWidth;  // restart the animation
    els.hero.classList.add("flash");
  }

  function renderHero(snap) {
    const newest = (snap.now_serving || [])[0];
    if (!newest) {
      els.hero.classList.add("idle");
      els.hero.classList.remove("flash");
      els.heroNumber.textContent = "\u2014";
      els.heroCounter.textContent = "";
      els.heroCounter.append(TEXT.no_call.id, el("span", "en", ` / ${TEXT.no_call.en}`));
      state.newestKey = null;
      return;
    }
    els.hero.classList.remove("idle");
    els.heroNumber.textContent = newest.number;
    els.heroCounter.textContent = newest.counter_name || newest.counter || "";
    const key = `${newest.number}|${newest.counter}|${newest.called_at}`;
    if (key !== state.newestKey) {
      if (state.newestKey !== null || state.snapshot !== null) flashHero();
      state.newestKey = key;
    }
  }

  function renderServing(snap) {
    els.serving.replaceChildren(...(snap.now_serving || []).slice(1, 1 + SERVING_TILES).map(
      (item) => {
        const li = el("li");
        li.append(el("span", "number", item.number),
                  el("span", "counter", `\u2192 ${item.counter_name || item.counter || ""}`));
        return li;
      }));
  }

  function renderRecent(snap) {
    els.recent.replaceChildren(...(snap.recent || []).slice(0, RECENT_ROWS).map((item) => {
      const li = el("li");
      li.append(el("span", "number", item.number),
                el("span", "counter", item.counter_name || item.counter || ""),
                el("span", "time", hhmm(item.called_at)));
      return li;
    }));
  }

  function renderWaiting(snap) {
    const stations = snap.stations || {};
    const waiting = snap.waiting || {};
    const order = DATA.station_order.filter((id) => id in waiting)
      .concat(Object.keys(waiting).filter((id) => !DATA.station_order.includes(id)));
    els.waiting.replaceChildren(...order.map((id) => {
      const name = stations[id] || {id, en: id};
      const row = el("tr");
      const label = el("td", "station", name.id);
      label.append(el("span", "en", `/ ${name.en}`));
      row.append(label, el("td", "count", waiting[id]));
      return row;
    }));
  }

  function renderSlot(snap) {
    const slot = snap.serving_slot;
    els.slot.textContent = slot ? `${slot.start}\u2013${slot.end}` : "\u2014";
  }

  function renderInfo(snap) {
    const items = (snap.info || []).filter((line) => typeof line === "string" && line.trim());
    const text = items.join("\n");
    if (text === state.infoText) return;  // do not restart the running line
    state.infoText = text;
    const parts = [];
    items.forEach((line, index) => {
      if (index > 0) parts.push(el("span", "sep", "\u25cf"));
      parts.push(el("span", "item", line));
    });
    els.ticker.replaceChildren(...parts);
    const seconds = Math.max(20, Math.round(text.length / 9));
    els.ticker.style.setProperty("--ticker-seconds", `${seconds}s`);
  }

  function render(snap) {
    renderHero(snap);
    renderServing(snap);
    renderRecent(snap);
    renderWaiting(snap);
    renderSlot(snap);
    renderInfo(snap);
    els.board.dataset.version = String(state.lastVersion);
  }

  // --- versions -----------------------------------------------------------------------
  function applySnapshot(snap) {
    if (!snap || typeof snap.version !== "number") return false;
    if (snap.version < state.lastVersion) return false;  // an older picture: keep ours
    state.lastVersion = snap.version;
    // Calls announced beyond this picture belong to a history the server no longer has
    // (it was restored from a backup): the same versions will be new calls, to be spoken.
    for (const version of state.announced) {
      if (version > snap.version) state.announced.delete(version);
    }
    if (snap.now) syncClock(snap.now);
    render(snap);
    state.snapshot = snap;
    return true;
  }

  function announce(call) {
    if (state.announced.has(call.version)) return;
    state.announced.add(call.version);
    if (state.announced.size > ANNOUNCED_KEEP) {
      const oldest = Math.min(...state.announced);
      state.announced.delete(oldest);
    }
    const announcer = window.GiliranAnnouncer;
    if (announcer && Array.isArray(call.announce) && call.announce.length > 0) {
      // `repeat`: the office's [announce] repeat (the announcer's own default without it).
      announcer.enqueue({number: call.number, urls: call.announce, recall: Boolean(call.recall),
                         repeat: call.repeat});
    }
  }

  /** Show a call at once; the snapshot that follows it confirms the whole picture. */
  function applyCall(call) {
    const base = state.snapshot || {now_serving: [], recent: [], waiting: {}, stations: {},
      serving_slot: null, info: []};
    const calledAt = new Date(Date.now() + state.clockOffsetMs
      + state.tzOffsetMinutes * 60000).toISOString().slice(0, 19);
    const entry = {number: call.number, counter: call.counter, counter_name: call.counter_name,
                   station: call.station, called_at: calledAt};
    const snap = Object.assign({}, base, {
      version: call.version,
      now: undefined,
      now_serving: [entry].concat((base.now_serving || []).filter(
        (item) => item.number !== call.number && item.counter !== call.counter)),
      recent: [entry].concat(base.recent || []),
    });
    state.lastVersion = call.version;
    render(snap);
    state.snapshot = snap;
    if (call.recall) flashHero();
  }

  function requestSnapshot(socket) {
    state.gapRequests += 1;
    socket.emit("snapshot", {office: OFFICE});
  }

  function onCalled(socket, call) {
    if (!call || typeof call.version !== "number") return;
    announce(call);
    if (call.version <= state.lastVersion) return;  // a snapshot already showed it
    // "previous" is the version of the last message the server sent to this room (it
    // skips snapshots of changes that a later snapshot shows): older than ours means we
    // missed something. Without it, any version beyond the next one is a gap.
    const missed = typeof call.previous === "number"
      ? call.previous > state.lastVersion
      : call.version > state.lastVersion + 1;
    if (state.lastVersion >= 0 && missed) {
      requestSnapshot(socket);  // we missed something: ask for the whole picture
      return;
    }
    applyCall(call);
  }

  // --- marks --------------------------------------------------------------------------
  function setOffline(offline) {
    els.offline.hidden = !offline;
    document.body.classList.toggle("is-offline", offline);
  }

  function watchAudio() {
    const announcer = window.GiliranAnnouncer;
    if (!announcer) {
      els.audio.hidden = false;
      return;
    }
    announcer.configure({onLockChange: (locked) => {
      els.audio.hidden = !locked;
      reportSound(null, null);  // the server shows each board's sound state in /health
    }});
  }

  // --- sound: the state for /health, and the remote sound check -------------------------
  function soundLocked() {
    const announcer = window.GiliranAnnouncer;
    return !announcer || Boolean(announcer.locked);
  }

  function reportSound(check, played) {
    const socket = state.socket;
    if (!socket || !state.joined) return;
    const report = {locked: soundLocked()};
    if (check) {
      report.check = check;
      report.played = Boolean(played);
    }
    state.soundReports.push(report);
    if (state.soundReports.length > 50) state.soundReports.shift();
    socket.emit("sound_state", report);
  }

  /** An admin asked for a sound check: the chime and a test phrase, then say how it went. */
  function soundCheck(check) {
    if (!check || typeof check.id !== "string" || !Array.isArray(check.urls)) return;
    const announcer = window.GiliranAnnouncer;
    if (!announcer) {
      reportSound(check.id, false);
      return;
    }
    // Locked: say so at once; the check still plays if someone unlocks the sound soon.
    if (announcer.locked) reportSound(check.id, false);
    announcer.enqueue({number: `sound-check ${check.id}`, urls: check.urls, recall: true,
                       repeat: 1})
      .then((entry) => reportSound(check.id, Boolean(entry && entry.clips > 0)));
  }

  // --- start --------------------------------------------------------------------------
  function connect() {
    if (typeof window.io !== "function") {
      setOffline(true);
      return;
    }
    const socket = window.io("/display", {
      auth: {version: DATA.app_version},  // shown in the admin's devices list
      transports: ["websocket"],
      reconnectionDelay: 400,
      reconnectionDelayMax: 1000,
      randomizationFactor: 0.2,
      timeout: 4000,
    });
    state.socket = socket;
    if (window.giliranReloadWhenDropped) window.giliranReloadWhenDropped(socket);
    socket.on("connect", () => {
      state.connected = true;
      setOffline(false);
      // The server may have restarted (or been restored): take its join snapshot whatever
      // its version.
      state.lastVersion = -1;
      socket.emit("join", {office: OFFICE}, (answer) => {
        const ok = Boolean(answer && answer.ok);
        els.refused.hidden = ok;
        state.joined = ok;
        if (ok) reportSound(null, null);
      });
    });
    socket.on("disconnect", () => {
      state.connected = false;
      state.joined = false;
      setOffline(true);
    });
    socket.on("connect_error", () => setOffline(true));
    socket.on("snapshot", (snap) => applySnapshot(snap));
    socket.on("called", (call) => onCalled(socket, call));
    socket.on("announcement", (note) => showAnnouncement(note));
    socket.on("sound_check", (check) => soundCheck(check));
  }

  // --- one-off announcements from the admin console ------------------------------------
  const ANNOUNCEMENT_SECONDS = 60;

  function showAnnouncement(note) {
    if (!note || typeof note.text !== "string" || !note.text.trim()) return;
    let banner = document.getElementById("announcement");
    if (!banner) {
      banner = el("div", "announcement");
      banner.id = "announcement";
      banner.setAttribute("role", "alert");
      els.board.prepend(banner);
    }
    banner.textContent = note.text;
    banner.hidden = false;
    state.announcement = note.text;
    window.clearTimeout(state.announcementTimer);
    state.announcementTimer = window.setTimeout(() => { banner.hidden = true; },
                                                ANNOUNCEMENT_SECONDS * 1000);
    // Spoken by the browser's own voice where the board has one and its audio is unlocked.
    const speech = window.speechSynthesis;
    if (speech && typeof window.SpeechSynthesisUtterance === "function") {
      const utterance = new window.SpeechSynthesisUtterance(note.text);
      utterance.lang = "id-ID";
      try { speech.speak(utterance); } catch (error) { /* no voice: shown only */ }
    }
  }

  function start() {
    setOffline(false);
    state.lastVersion = -1;
    applySnapshot(DATA.snapshot);
    setInterval(tick, 1000);
    // The sound state again every half minute: it keeps the board's row in the admin's
    // devices list fresh (a board not heard from goes stale there).
    setInterval(() => reportSound(null, null), SOUND_REPORT_SECONDS * 1000);
    watchAudio();
    connect();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
