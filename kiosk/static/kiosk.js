// The kiosk: a USB scanner (keyboard wedge), the camera and an on-screen keypad all end in
// POST /api/v1/checkin. One screen at a time: #kiosk[data-state] is welcome, camera,
// keypad, busy, ticket or refusal; window.kioskState mirrors it for tests and support.
(function () {
  "use strict";

  const root = document.getElementById("kiosk");
  const settings = JSON.parse(document.getElementById("kiosk-settings").textContent);
  const byId = (id) => document.getElementById(id);
  const scanInput = byId("scan-input");
  const video = byId("camera-video");
  const canvas = byId("camera-canvas");

  const IDLE_SECONDS = 60;          // keypad or camera left alone: back to the start
  const STALE_KEY_MS = 3000;        // a pause this long starts a new scan
  const MAX_SCAN = 512;
  const REQUEST_TIMEOUT_MS = 15000;
  const PRINT_POLL_MS = 1000;
  const PRINT_POLL_TRIES = 120;
  // A ticket not printed this long after the screen showed it is treated as a failed
  // print on screen (take a photo), whatever the job says later: the printer's process
  // may be down (the job stays queued), or every printer slow to fail. A later "printed"
  // still says so. Never later than three quarters of the screen's time.
  const PRINT_LATE_SECONDS = 15;
  const CAMERA_REPEAT_MS = 15000;   // the same QR still in front of the camera is not a new scan
  // The scanner reading the same QR again this soon after its ticket came up is the same
  // scan (a scanner in presentation mode reads a code held still twice): no second paper.
  // Later, or with the Reprint button, it is printed again.
  const SCANNER_REPEAT_MS = 10000;
  const ALIVE_SECONDS = 30;         // the kiosk's sign of life on its socket

  const state = {
    name: "welcome", lang: "id", buffer: "", lastKeyAt: 0, lastScan: null, ticketAt: 0,
    dropping: false, ignoredRepeats: 0, tapped: false,
    ticket: null, reprint: false, print: null, refusal: null, cameraBroken: false, requests: 0,
    cameraRead: { text: "", at: 0 },
  };
  window.kioskState = state;

  let returnTimer = null;
  let returnAt = 0;
  let cameraStream = null;
  let cameraTimer = null;
  let printTimer = null;
  let printLateTimer = null;

  // --- text --------------------------------------------------------------------------
  function fill(text, values) {
    return String(text).replace(/\{(\w+)\}/g, (whole, key) =>
      (values && key in values ? String(values[key]) : whole));
  }

  function msg(source, values) {
    const pair = settings.messages[source] || { id: source, en: source };
    return { id: fill(pair.id, values), en: fill(pair.en, values) };
  }

  function validPair(value) {
    return value && typeof value.id === "string" && typeof value.en === "string";
  }

  function setPair(element, pair) {
    const text = validPair(pair) ? pair : { id: "", en: "" };
    element.querySelector(".l-id").textContent = text.id;
    element.querySelector(".l-en").textContent = text.en;
  }

  function setLanguage(lang) {
    state.lang = lang;
    root.dataset.lang = lang;
    byId("lang-toggle").setAttribute("aria-pressed", lang === "en" ? "true" : "false");
  }

  // --- screens and timers ------------------------------------------------------------
  function show(name) {
    if (state.name === "camera" && name !== "camera") stopCamera();
    state.name = name;
    root.dataset.state = name;
    clearReturn();
    if (name === "welcome") {
      setLanguage("id");
      state.buffer = "";
      state.tapped = false;
      state.ticket = null;
      state.refusal = null;
    }
    if (name === "ticket" || name === "refusal") {
      const factor = name === "ticket" && state.print === "failed" ? 3 : 1;
      armReturn(settings.return_seconds * factor);
    } else if (name === "keypad" || name === "camera") {
      armReturn(IDLE_SECONDS, true);
    }
    if (name !== "ticket") stopPrintPolling();
    updateKeypad();
    focusScanner();
  }

  function home() {
    if (settings.camera && !state.cameraBroken) startCamera();
    else show("welcome");
  }

  function armReturn(seconds, quiet) {
    clearReturn();
    returnAt = Date.now() + seconds * 1000;
    const tick = () => {
      const left = Math.max(0, Math.ceil((returnAt - Date.now()) / 1000));
      setPair(byId("countdown"), quiet ? null : msg("Back to the start in {seconds} s", { seconds: left }));
      if (left <= 0) {
        clearReturn();
        home();
      }
    };
    tick();
    returnTimer = setInterval(tick, 250);
  }

  function clearReturn() {
    if (returnTimer) clearInterval(returnTimer);
    returnTimer = null;
    setPair(byId("countdown"), null);
  }

  function touched() {
    // Someone is using the keypad or the camera: give them the full idle time again.
    if (state.name === "keypad" || state.name === "camera") armReturn(IDLE_SECONDS, true);
  }

  // --- the scanner (keyboard wedge) and the keypad ------------------------------------
  function isStaffControl(element) {
    return Boolean(element && element.closest && element.closest("[data-staff-control]"));
  }

  function focusScanner() {
    if (isStaffControl(document.activeElement)) return;
    if (document.activeElement !== scanInput) scanInput.focus({ preventScroll: true });
  }

  function updateKeypad() {
    byId("keypad-display").textContent = state.name === "keypad" ? state.buffer.toUpperCase() : "";
  }

  // The same code again while its ticket is still on the screen, a moment after it came
  // up: the scanner read it twice.
  function isRepeatedScan(text) {
    return state.name === "ticket" && text === state.lastScan
      && Date.now() - state.ticketAt < SCANNER_REPEAT_MS;
  }

  function pressKey(key) {
    touched();
    if (key === "Enter" || key === "OK") {
      const text = state.buffer.trim();
      state.buffer = "";
      state.tapped = false;
      updateKeypad();
      if (text && isRepeatedScan(text)) {
        state.ignoredRepeats += 1;
        return;
      }
      if (text) submitScan(text);
      return;
    }
    if (key === "Backspace") {
      state.buffer = state.buffer.slice(0, -1);
    } else if (key === "Cancel") {
      home();
      return;
    } else if (key.length === 1 && state.buffer.length < MAX_SCAN) {
      state.buffer += state.name === "keypad" ? key.toUpperCase() : key;
    }
    updateKeypad();
  }

  document.addEventListener("keydown", (event) => {
    if (isStaffControl(event.target)) return;
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const now = Date.now();
    if (state.name === "busy") {
      // A scan typed while the last one is being answered is lost: what is left of it
      // after the answer must not be taken for a scan of its own (the tail of a second
      // read of the same QR would replace the new ticket by "code not found").
      event.preventDefault();
      if (event.key === "Enter") state.dropping = false;
      else if (event.key.length === 1) state.dropping = true;
      state.lastKeyAt = now;
      return;
    }
    if (state.dropping) {
      if (now - state.lastKeyAt > STALE_KEY_MS) {
        state.dropping = false;  // a pause: this is a new scan
      } else {
        event.preventDefault();
        state.lastKeyAt = now;
        if (event.key === "Enter") state.dropping = false;  // the end of the lost scan
        return;
      }
    }
    if (state.name !== "keypad" && now - state.lastKeyAt > STALE_KEY_MS) state.buffer = "";
    if (state.tapped && event.key.length === 1) {
      // A scan on the keypad screen, over a code half typed on the screen's keys: the
      // scanner's read replaces it (added to it, it was a code nobody has).
      state.buffer = "";
      state.tapped = false;
    }
    state.lastKeyAt = now;
    if (event.key === "Enter" || event.key === "Backspace" || event.key.length === 1) {
      event.preventDefault();
      pressKey(event.key);
    }
  }, true);

  scanInput.addEventListener("blur", () => setTimeout(focusScanner, 0));
  document.addEventListener("pointerup", () => setTimeout(focusScanner, 0));
  window.addEventListener("focus", focusScanner);

  byId("keypad").addEventListener("pointerdown", (event) => event.preventDefault());
  byId("keypad").addEventListener("click", (event) => {
    const button = event.target.closest("[data-key]");
    if (!button) return;
    pressKey(button.dataset.key);
    state.tapped = state.buffer.length > 0;
  });

  // --- check-in ----------------------------------------------------------------------
  async function postJson(url, body) {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), REQUEST_TIMEOUT_MS);
    try {
      const response = await fetch(url, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify(body),
        signal: controller.signal,
      });
      let data = null;
      try {
        data = await response.json();
      } catch (error) {
        data = null;
      }
      return { status: response.status, ok: response.ok, data };
    } finally {
      clearTimeout(timer);
    }
  }

  async function submitScan(text) {
    state.lastScan = text;
    await issue(settings.checkin_url, { scan: text, kiosk: settings.kiosk });
  }

  async function issue(url, body) {
    show("busy");
    state.requests += 1;
    let answer;
    try {
      answer = await postJson(url, body);
    } catch (error) {
      showRefusal({ code: "offline", message: msg("The kiosk cannot reach the server.") });
      return;
    }
    if (answer.ok && answer.data && answer.data.ticket) {
      showTicket(answer.data);
    } else if (answer.data && answer.data.error) {
      showRefusal(answer.data.error);
    } else {
      showRefusal({ code: "offline", message: msg("The kiosk cannot reach the server.") });
    }
  }

  function showTicket(data) {
    const ticket = data.ticket;
    const names = settings.names;
    state.ticket = ticket;
    state.reprint = data.reprint === true;
    byId("ticket-number").textContent = ticket.number || "";
    setPair(byId("ticket-service"), names.services[ticket.service]);
    const slot = ticket.slot && ticket.slot.start ? `${ticket.slot.start}–${ticket.slot.end}` : "";
    byId("ticket-slot").textContent = slot;
    byId("fact-slot").hidden = !slot;
    setPair(byId("ticket-station"), names.stations[ticket.station] ||
            { id: ticket.station || "", en: ticket.station || "" });
    const waiting = ticket.status === settings.states.waiting && ticket.position != null;
    byId("ticket-position").textContent = waiting ? String(ticket.position) : "";
    byId("fact-position").hidden = !waiting;
    byId("fact-wait").hidden = !waiting;
    const minutes = Number(ticket.estimated_wait_minutes) || 0;
    setPair(byId("ticket-wait"), minutes >= 1 ? msg("about {minutes} min", { minutes })
      : msg("less than a minute"));
    const qr = byId("ticket-qr");
    if (typeof ticket.status_url === "string") {
      qr.src = `${settings.qr_url}?data=${encodeURIComponent(ticket.status_url)}`;
      qr.hidden = false;
    } else {
      qr.hidden = true;
    }
    showDemoted(ticket);
    showState(ticket);
    byId("notice-reprint").hidden = !state.reprint;
    byId("btn-reprint").hidden = !state.lastScan;
    showPrint(data.print);
    state.ticketAt = Date.now();
    show("ticket");
  }

  // A scan again of a ticket no longer waiting (called while the applicant was away, held,
  // being served): say where it stands and which counter calls it, not only its station.
  function showState(ticket) {
    const notice = byId("notice-state");
    notice.hidden = !ticket.status || ticket.status === settings.states.waiting;
    if (notice.hidden) return;
    if (ticket.status === settings.states.called && ticket.counter) {
      const counter = settings.names.counters[ticket.counter] || ticket.counter;
      setPair(notice, msg("Called: go to {counter}", { counter }));
    } else {
      setPair(notice, settings.status_words[ticket.status]);
    }
  }

  // A late arrival queued at its arrival time: say that the booked slot was missed and
  // which slot (the one the ticket's letter names) the applicant now queues in.
  function showDemoted(ticket) {
    const notice = byId("notice-demoted");
    const booked = ticket.booked_slot;
    const slot = ticket.slot;
    const demoted = ticket.demoted === true && booked && slot;
    notice.hidden = !demoted;
    root.classList.toggle("demoted", Boolean(demoted));
    if (!demoted) return;
    setPair(byId("demoted-what"), msg(
      "You came after your booked slot {start}–{end} and its {grace} minutes of grace.",
      { start: booked.start, end: booked.end, grace: settings.late_grace_minutes }));
    setPair(byId("demoted-where"), msg(
      "You now queue as a late arrival in slot {start}–{end}, after those who came on time.",
      { start: slot.start, end: slot.end }));
  }

  function showRefusal(error) {
    const code = typeof error.code === "string" ? error.code : "other";
    const message = validPair(error.message) ? error.message
      : msg("The kiosk cannot reach the server.");
    state.refusal = { code, message, retry_at: error.retry_at || null };
    setPair(byId("refusal-message"), message);
    setPair(byId("refusal-next"), settings.next_steps[code] || settings.next_steps.other);
    show("refusal");
  }

  // --- printing: the API may report the print job; a failure keeps the screen readable --
  function setPrintStatus(status) {
    const wasFailed = state.print === "failed";
    state.print = status;
    byId("notice-printing").hidden = !(status === "queued" || status === "printing");
    byId("notice-printed").hidden = status !== "printed";
    byId("notice-print-failed").hidden = status !== "failed";
    root.classList.toggle("print-failed", status === "failed");
    if (status === "failed" && !wasFailed && state.name === "ticket") {
      armReturn(settings.return_seconds * 3);
    }
  }

  function printLateAfter() {
    return Math.min(PRINT_LATE_SECONDS, settings.return_seconds * 0.75) * 1000;
  }

  function showPrint(print) {
    stopPrintPolling();
    if (!print || typeof print !== "object") {
      setPrintStatus(null);
      return;
    }
    const status = String(print.status || "");
    setPrintStatus(["queued", "printing", "printed", "failed"].includes(status) ? status : null);
    const job = print.id != null ? print.id : print.job;
    if ((status === "queued" || status === "printing") && job != null) {
      pollPrint(String(job), 0);
      // Still not printed by then (even if no answer about it comes): say so, and keep
      // asking (a late "printed" still shows).
      printLateTimer = setTimeout(() => {
        printLateTimer = null;
        if (state.name === "ticket" && (state.print === "queued" || state.print === "printing")) {
          setPrintStatus("failed");
        }
      }, printLateAfter());
    }
  }

  function pollPrint(job, tries) {
    printTimer = setTimeout(async () => {
      printTimer = null;
      if (state.name !== "ticket" || tries >= PRINT_POLL_TRIES) return;
      try {
        const response = await fetch(settings.print_job_url + encodeURIComponent(job), {
          credentials: "same-origin", headers: { Accept: "application/json" },
        });
        if (!response.ok) {
          setPrintStatus(null);  // no such endpoint or job: say nothing rather than guess
          return;
        }
        const data = await response.json();
        const report = (data && (data.print || data.job)) || data || {};
        const status = String(report.status || "");
        if (status === "printed" || status === "failed") {
          setPrintStatus(status);
          return;
        }
      } catch (error) {
        // the network hiccupped: try again on the next round
      }
      pollPrint(job, tries + 1);
    }, PRINT_POLL_MS);
  }

  function stopPrintPolling() {
    if (printTimer) clearTimeout(printTimer);
    if (printLateTimer) clearTimeout(printLateTimer);
    printTimer = null;
    printLateTimer = null;
  }

  // --- the camera ------------------------------------------------------------------
  async function startCamera() {
    show("camera");
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia || !window.jsQR) {
      cameraFailed();
      return;
    }
    try {
      const stream = await navigator.mediaDevices.getUserMedia({
        audio: false, video: { width: { ideal: 1280 }, height: { ideal: 720 } },
      });
      if (state.name !== "camera") {
        stream.getTracks().forEach((track) => track.stop());
        return;
      }
      cameraStream = stream;
      video.srcObject = stream;
      await video.play();
    } catch (error) {
      if (state.name === "camera") cameraFailed();
      return;
    }
    state.cameraBroken = false;
    scanFrames();
  }

  function cameraFailed() {
    stopCamera();
    state.cameraBroken = true;
    showRefusal({ code: "camera", message: msg("The camera could not be started.") });
  }

  function scanFrames() {
    cameraTimer = setTimeout(() => {
      cameraTimer = null;
      if (state.name !== "camera" || !cameraStream) return;
      if (video.readyState >= 2 && video.videoWidth > 0) {
        const scale = Math.min(1, 800 / video.videoWidth);
        const width = Math.round(video.videoWidth * scale);
        const height = Math.round(video.videoHeight * scale);
        canvas.width = width;
        canvas.height = height;
        const context = canvas.getContext("2d", { willReadFrequently: true });
        context.drawImage(video, 0, 0, width, height);
        const image = context.getImageData(0, 0, width, height);
        const found = window.jsQR(image.data, width, height, { inversionAttempts: "attemptBoth" });
        const text = found && found.data ? found.data.trim() : "";
        const repeated = text === state.cameraRead.text &&
          Date.now() - state.cameraRead.at < CAMERA_REPEAT_MS;
        if (repeated) state.cameraRead.at = Date.now();  // still held up: still the same scan
        if (text && !repeated) {
          state.cameraRead = { text, at: Date.now() };
          stopCamera();
          submitScan(text);
          return;
        }
      }
      scanFrames();
    }, 120);
  }

  function stopCamera() {
    if (cameraTimer) clearTimeout(cameraTimer);
    cameraTimer = null;
    if (cameraStream) cameraStream.getTracks().forEach((track) => track.stop());
    cameraStream = null;
    video.srcObject = null;
  }

  // --- buttons ---------------------------------------------------------------------
  byId("lang-toggle").addEventListener("click", () => {
    setLanguage(state.lang === "id" ? "en" : "id");
    touched();
  });
  byId("camera-start").addEventListener("click", () => {
    state.cameraBroken = false;
    state.cameraRead = { text: "", at: 0 };  // asked for: the QR held up is a new scan
    startCamera();
  });
  byId("camera-stop").addEventListener("click", () => show("welcome"));
  byId("camera-keypad").addEventListener("click", () => show("keypad"));
  byId("keypad-open").addEventListener("click", () => {
    state.buffer = "";
    show("keypad");
  });
  byId("btn-done").addEventListener("click", home);
  // "Try again" after a refusal (the network, the server away): the QR still held in
  // front of the camera is read again, not taken for the scan that was refused.
  byId("btn-retry").addEventListener("click", () => {
    state.cameraRead = { text: "", at: 0 };
    home();
  });
  byId("btn-reprint").addEventListener("click", () => {
    if (state.lastScan) submitScan(state.lastScan);
  });

  const walkinForm = byId("walkin-form");
  if (walkinForm) {
    walkinForm.addEventListener("submit", (event) => {
      event.preventDefault();
      state.lastScan = null;
      const group = byId("walkin-group").value;
      issue(settings.walkin_url, {
        service: byId("walkin-service").value, priority_group: group || null,
      });
      scanInput.focus({ preventScroll: true });
    });
  }

  // The officers' link needs a long press, so applicants do not land on the login page.
  const staffLink = document.querySelector(".staff-link");
  if (staffLink) {
    let holdTimer = null;
    staffLink.addEventListener("click", (event) => event.preventDefault());
    staffLink.addEventListener("pointerdown", () => {
      holdTimer = setTimeout(() => { window.location.href = staffLink.href; }, 1500);
    });
    ["pointerup", "pointerleave", "pointercancel"].forEach((name) =>
      staffLink.addEventListener(name, () => clearTimeout(holdTimer)));
  }

  // --- the live configuration: office name, information lines, check-in window --------
  // The kiosk joins its office's config room in /display; on `config_changed` it fetches
  // its live part again and re-renders without a reload (an applicant mid-scan keeps the
  // screen they are on). After a reconnect it fetches too: a change may have been missed.
  function applyLive(live) {
    if (!live || typeof live.office_name !== "string") return;
    byId("office-name").textContent = live.office_name;
    setPair(byId("kiosk-window"), live.window);
    const info = byId("kiosk-info");
    info.replaceChildren(...(Array.isArray(live.info) ? live.info : []).map((line, index) => {
      const item = document.createElement("li");
      item.textContent = String(line);
      if (index === 0) item.className = "current";
      return item;
    }));
    info.hidden = info.children.length === 0;
    for (const key of ["return_seconds", "late_grace_minutes", "names"]) {
      if (key in live) settings[key] = live[key];
    }
    const select = byId("walkin-service");
    if (select && Array.isArray(live.services)) {
      const chosen = select.value;
      select.replaceChildren(...live.services.map((service) => {
        const option = document.createElement("option");
        option.value = service.id;
        option.textContent = `${service.name.id} / ${service.name.en}`;
        return option;
      }));
      if (live.services.some((service) => service.id === chosen)) select.value = chosen;
    }
    state.liveUpdates = (state.liveUpdates || 0) + 1;
    root.dataset.live = String(state.liveUpdates);
  }

  async function refreshLive() {
    try {
      const response = await fetch(settings.live_url, {
        headers: { Accept: "application/json" }, credentials: "same-origin", cache: "no-store",
      });
      if (response.ok) applyLive(await response.json());
    } catch (error) {
      // Offline for a moment: the next connect fetches again.
    }
  }

  function followConfig() {
    if (typeof window.io !== "function") return;
    const socket = window.io("/display", {
      auth: { version: settings.app_version },  // shown in the admin's devices list
      transports: ["websocket"], reconnectionDelay: 1000, reconnectionDelayMax: 5000,
    });
    // Revoked (or enrolled again elsewhere): the page loads itself again and says so,
    // rather than taking scans it can no longer check in.
    if (window.giliranReloadWhenDropped) window.giliranReloadWhenDropped(socket);
    let connectedBefore = false;
    socket.on("connect", () => {
      socket.emit("join", { office: settings.office, config: true }, (answer) => {
        state.configJoined = Boolean(answer && answer.ok);
        root.dataset.configJoined = String(state.configJoined);
      });
      if (connectedBefore) refreshLive();
      connectedBefore = true;
    });
    socket.on("config_changed", () => refreshLive());
    // A sign of life every half minute: the admin's overview counts a kiosk not seen for
    // two minutes as offline, and an idle kiosk makes no other request.
    setInterval(() => { if (socket.connected) socket.emit("alive", {}); }, ALIVE_SECONDS * 1000);
  }

  // The information lines take turns, one at a time (every kiosk size fits one).
  const INFO_SECONDS = 8;
  function nextInfo() {
    const items = [...byId("kiosk-info").children];
    if (items.length < 2) return;
    const at = items.findIndex((item) => item.classList.contains("current"));
    items.forEach((item) => item.classList.remove("current"));
    items[(at + 1) % items.length].classList.add("current");
  }

  setLanguage("id");
  home();
  followConfig();
  setInterval(nextInfo, INFO_SECONDS * 1000);
  root.dataset.ready = "true";
})();
