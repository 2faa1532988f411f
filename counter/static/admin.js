/* The admin console: forms that edit the live configuration through /api/v1.
   Every edit names the version the page was loaded with (If-Match); a refusal shows its
   bilingual message and marks the field it names; a success reloads the page. */
"use strict";
(() => {
  const main = document.getElementById("admin");
  if (!main) return;
  const page = main.dataset.page;
  const box = document.getElementById("message");
  const FLASH = "giliran-admin-flash";

  function readJson(id) {
    const node = document.getElementById(id);
    return node ? JSON.parse(node.innerHTML) : {};
  }

  function show(message, kind) {
    box.hidden = false;
    box.className = `message message-${kind}`;
    document.getElementById("message-id").textContent = message.id;
    document.getElementById("message-en").textContent = message.en;
    box.dataset.kind = kind;
  }

  function flashAfterReload(message) {
    sessionStorage.setItem(FLASH, JSON.stringify(message));
    window.location.reload();
  }

  const flashed = sessionStorage.getItem(FLASH);
  if (flashed) {
    sessionStorage.removeItem(FLASH);
    show(JSON.parse(flashed), "ok");
  }

  async function send(method, url, body, withVersion) {
    const headers = {"Content-Type": "application/json", "Accept": "application/json"};
    if (withVersion) headers["If-Match"] = `"${main.dataset.version}"`;
    let response;
    try {
      response = await fetch(url, {method, headers, body: body ? JSON.stringify(body) : undefined,
                                   credentials: "same-origin"});
    } catch (err) {
      return {ok: false, status: 0, data: null};
    }
    let data = null;
    try { data = await response.json(); } catch (err) { data = null; }
    return {ok: response.ok, status: response.status, data};
  }

  function markInvalid(field) {
    document.querySelectorAll(".invalid").forEach((n) => n.classList.remove("invalid"));
    if (!field) return;
    // The most specific element whose data-key the field starts with.
    let best = null;
    document.querySelectorAll("[data-key]").forEach((node) => {
      const key = node.dataset.key;
      if ((field === key || field.startsWith(key + ".") || field.startsWith(key + "["))
          && (!best || key.length > best.dataset.key.length)) best = node;
    });
    if (best) best.classList.add("invalid");
  }

  function refused(result, text) {
    const error = result.data && result.data.error;
    if (!error) {
      show(text.network || {id: "Gagal", en: "Failed"}, "error");
      return null;
    }
    show(error.message, "error");
    markInvalid(error.field);
    if (error.current_version) main.dataset.stale = String(error.current_version);
    return error;
  }

  function lines(value) {
    return value.split("\n").map((s) => s.trim()).filter((s) => s);
  }

  function toNumber(value) {
    return value === "" ? null : Number(value);
  }

  // --- the office page ------------------------------------------------------------------
  function officePage() {
    const office = main.dataset.office;
    const text = readJson("office-text");
    const globalPolicy = readJson("global-policy");
    // The office's own [policy] overrides as stored: the form shows only some keys, and
    // a key it does not show (no_show_after_calls, ...) must survive a save of the hours.
    const officePolicy = readJson("office-policy");
    const base = `/api/v1/offices/${encodeURIComponent(office)}`;
    const policyValue = (input) => {
      const value = input.type === "number" ? toNumber(input.value) : input.value.trim();
      return input.name === "policy.max_wait_minutes" && value === 0 ? null : value;
    };
    const shownPolicy = new Map([...document.querySelectorAll("[name^='policy.']")]
      .map((input) => [input.name, policyValue(input)]));

    function counterBody(form) {
      return {
        name: form.elements.name.value,
        stations: [...form.querySelectorAll("input[name=stations]:checked")].map((i) => i.value),
        priority_only: form.elements.priority_only.checked,
        open: form.elements.open.checked,
      };
    }

    async function saveCounter(form, extra) {
      const id = form.dataset.id;
      const result = await send("PATCH", `${base}/counters/${encodeURIComponent(id)}`,
                                {...counterBody(form), ...(extra || {})}, true);
      if (result.ok) return flashAfterReload(text.saved);
      const error = refused(result, text);
      if (error && error.code === "counter_has_ticket") askTicket(form, error);
    }

    function askTicket(form, error, remove) {
      const ask = form.querySelector(".ask");
      ask.replaceChildren();
      const q = document.createElement("p");
      q.textContent = `${text.ask_ticket.id} / ${text.ask_ticket.en} (${error.ticket})`;
      const back = document.createElement("button");
      back.type = "button";
      back.dataset.choice = "return";
      back.textContent = `${text.return.id} / ${text.return.en}`;
      const move = document.createElement("button");
      move.type = "button";
      move.dataset.choice = "transfer";
      move.textContent = `${text.transfer.id} / ${text.transfer.en}`;
      const select = document.createElement("select");
      select.name = "transfer_station";
      form.querySelectorAll("input[name=stations]").forEach((i) => {
        const option = document.createElement("option");
        option.value = i.value;
        option.textContent = i.value;
        select.append(option);
      });
      ask.append(q, back, " ", move, " ", select);
      ask.hidden = false;
      back.addEventListener("click", () => (remove ? removeCounter(form, {ticket: "return"})
                                                   : saveCounter(form, {ticket: "return"})));
      move.addEventListener("click", () => {
        const choice = {ticket: "transfer", station: select.value};
        return remove ? removeCounter(form, choice) : saveCounter(form, choice);
      });
    }

    async function removeCounter(form, choice) {
      const id = form.dataset.id;
      const result = await send("DELETE", `${base}/counters/${encodeURIComponent(id)}`,
                                choice || null, true);
      if (result.ok) return flashAfterReload(text.saved);
      const error = refused(result, text);
      if (error && error.code === "counter_has_ticket") askTicket(form, error, true);
    }

    function policyOverrides(form) {
      // Start from what the office overrides now; only the fields the admin changed move.
      const policy = {...officePolicy};
      for (const input of form.querySelectorAll("[name^='policy.']")) {
        const key = input.name.slice(7);
        const value = policyValue(input);
        if (value === shownPolicy.get(input.name)) continue;  // untouched: kept as stored
        if (value === globalPolicy[key]) delete policy[key];  // back to [policy]
        else policy[key] = value === null ? 0 : value;
      }
      return policy;
    }

    function officeBody(form) {
      const body = {
        opens: form.elements.opens.value.trim(),
        last_checkin: form.elements.last_checkin.value.trim(),
        closes: form.elements.closes.value.trim(),
        // Defaults are left out of the document (null removes a key).
        quota_per_slot: toNumber(form.elements.quota_per_slot.value) || null,
        closed_days: lines(form.elements.closed_days.value),
      };
      if (!body.closed_days.length) body.closed_days = null;
      const policy = policyOverrides(form);
      body.policy = Object.keys(policy).length ? policy : null;
      return body;
    }

    function servicesBody(form) {
      const services = [];
      for (const fs of form.querySelectorAll("fieldset.service")) {
        const get = (name) => fs.querySelector(`[name=${name}]`);
        const id = get("id").value.trim();
        if (!id) continue;
        const service = {
          id,
          name: {id: get("name_id").value.trim(), en: get("name_en").value.trim()},
          flow: get("flow").value.split(",").map((s) => s.trim()).filter((s) => s),
        };
        if (get("express").checked) service.express = true;
        if (get("walkin_from").value.trim()) service.walkin_from = get("walkin_from").value.trim();
        if (get("walkin_until").value.trim()) service.walkin_until = get("walkin_until").value.trim();
        services.push(service);
      }
      return {services};
    }

    document.querySelectorAll("form[data-kind]").forEach((form) => {
      form.addEventListener("submit", async (event) => {
        event.preventDefault();
        const kind = form.dataset.kind;
        let result;
        if (kind === "counter") return saveCounter(form);
        if (kind === "counter-add") {
          result = await send("POST", `${base}/counters`,
                              {id: form.elements.id.value.trim(), ...counterBody(form)}, true);
        } else if (kind === "info") {
          result = await send("PUT", `${base}/info`, {info: lines(form.elements.info.value)}, true);
        } else if (kind === "announcement") {
          result = await send("POST", `${base}/announcement`, {text: form.elements.text.value});
          if (result.ok) {
            form.reset();
            return show(text.sent, "ok");
          }
        } else if (kind === "office") {
          result = await send("PATCH", `${base}/config`, officeBody(form), true);
        } else if (kind === "services") {
          result = await send("PATCH", `${base}/config`, servicesBody(form), true);
        }
        if (result && result.ok) return flashAfterReload(text.saved);
        if (result) refused(result, text);
      });
      form.querySelectorAll("[data-action=delete]").forEach((button) => {
        button.addEventListener("click", () => {
          const message = text.confirm_delete;
          const q = `${message.id.replace("{counter}", form.dataset.id)} / `
                  + `${message.en.replace("{counter}", form.dataset.id)}`;
          if (window.confirm(q)) removeCounter(form);
        });
      });
    });
  }

  // --- the overview -------------------------------------------------------------------------
  function overviewPage() {
    const text = readJson("overview-text");
    const body = document.querySelector("#overview tbody");
    const cell = (value) => {
      const td = document.createElement("td");
      td.textContent = value;
      return td;
    };
    async function refresh() {
      const result = await send("GET", main.dataset.overviewUrl);
      if (!result.ok) return;
      body.replaceChildren();
      for (const office of result.data.offices) {
        const tr = document.createElement("tr");
        tr.dataset.office = office.id;
        const link = document.createElement("a");
        link.href = `/admin/office/${encodeURIComponent(office.id)}`;
        link.textContent = `${office.id} · ${office.name}`;
        const name = document.createElement("td");
        name.append(link);
        const stations = office.stations.map((s) => `${s.name.id}: ${s.waiting}`).join(" · ");
        const minutes = text.minutes.id.replace("{minutes}", office.longest_wait_minutes);
        tr.append(name, cell(stations), cell(minutes),
                  cell(`${office.counters_open} / ${office.counters}`),
                  cell(office.devices_offline.join(", ") || "–"),
                  cell(office.faults.join(", ") || "–"));
        tr.querySelector("td:nth-child(2)").dataset.waiting = String(office.waiting);
        body.append(tr);
      }
      main.dataset.refreshed = String(Date.now());
    }
    refresh();
    window.setInterval(refresh, 5000);
  }

  // --- the audit log ------------------------------------------------------------------------
  function auditPage() {
    const form = document.getElementById("audit-filter");
    const body = document.querySelector("#audit tbody");
    const csv = document.getElementById("audit-csv");
    function query() {
      const params = new URLSearchParams();
      for (const name of ["office", "who", "since"]) {
        const value = form.elements[name].value.trim();
        if (value) params.set(name, value);
      }
      return params;
    }
    function describe(entry) {
      const changes = entry.detail.changes;
      if (!changes) {
        const rest = {...entry.detail};
        delete rest.scope;
        delete rest.version;
        return JSON.stringify(rest);
      }
      return changes.map((c) => `${c.path}: ${JSON.stringify(c.old)} → ${JSON.stringify(c.new)}`)
        .join("\n");
    }
    async function load() {
      const params = query();
      const csvParams = new URLSearchParams(params);
      csvParams.set("format", "csv");
      csv.href = `/api/v1/audit?${csvParams}`;
      const result = await send("GET", `/api/v1/audit?${params}`);
      if (!result.ok) return refused(result, {});
      body.replaceChildren();
      for (const entry of result.data.audit) {
        const tr = document.createElement("tr");
        for (const value of [entry.at.replace("T", " ").replace("Z", ""), entry.who,
                             entry.office || "–", entry.action, describe(entry)]) {
          const td = document.createElement("td");
          td.textContent = value;
          tr.append(td);
        }
        body.append(tr);
      }
      main.dataset.loaded = String(result.data.audit.length);
    }
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      load();
    });
    load();
  }

  // --- staff ------------------------------------------------------------------------------
  function staffPage() {
    const text = readJson("staff-text");
    const url = (name) => `/api/v1/staff/${encodeURIComponent(name)}`;
    const officesOf = (value) => (value ? [value] : []);
    document.querySelectorAll("#accounts tr[data-username]").forEach((row) => {
      const name = row.dataset.username;
      const act = async (body) => {
        const result = await send("PATCH", url(name), body);
        if (result.ok) return flashAfterReload(text.saved);
        return refused(result, text);
      };
      row.querySelectorAll("button[data-action]").forEach((button) => {
        button.addEventListener("click", () => {
          const action = button.dataset.action;
          if (action === "save") {
            return act({role: row.querySelector("[name=role]").value,
                        offices: officesOf(row.querySelector("[name=office]").value)});
          }
          if (action === "password") {
            return act({password: row.querySelector("[name=password]").value});
          }
          if (action === "disable") return act({active: false});
          if (action === "enable") return act({active: true});
          if (action === "end_sessions") return act({end_sessions: true});
          return null;
        });
      });
    });
    const add = document.querySelector("form[data-kind=staff-add]");
    if (add) {
      add.addEventListener("submit", async (event) => {
        event.preventDefault();
        const result = await send("POST", "/api/v1/staff", {
          username: add.elements.username.value.trim(), role: add.elements.role.value,
          offices: officesOf(add.elements.office.value), password: add.elements.password.value,
        });
        if (result.ok) return flashAfterReload(text.saved);
        return refused(result, text);
      });
    }
  }

  // --- devices -----------------------------------------------------------------------------
  function devicesPage() {
    const text = readJson("devices-text");
    const url = (id) => `/api/v1/devices/${encodeURIComponent(id)}`;
    const add = document.querySelector("form[data-kind=device-add]");
    add.addEventListener("submit", async (event) => {
      event.preventDefault();
      const result = await send("POST", "/api/v1/devices", {
        kind: add.elements.kind.value, id: add.elements.id.value.trim(),
        name: add.elements.name.value.trim(), office: add.elements.office.value,
      });
      if (!result.ok) return refused(result, text);
      // The one-time link is shown here only: no reload, which would lose it.
      document.getElementById("enrol-qr").src = result.data.enrol_qr;
      document.getElementById("enrol-url").textContent = result.data.enrol_url;
      document.getElementById("enrol").hidden = false;
      show(text.saved, "ok");
      return null;
    });

    async function followJob(id) {
      for (let i = 0; i < 30; i += 1) {
        const result = await send("GET", `/api/v1/print-jobs/${encodeURIComponent(id)}`);
        const status = result.ok ? result.data.print.status : null;
        if (status === "printed") return show(text.printed, "ok");
        if (status === "failed") return show(text.print_failed, "error");
        await new Promise((resolve) => { window.setTimeout(resolve, 1000); });
      }
      return null;
    }

    // A sound check: every board of the office plays the chime and a test phrase; this
    // board's answer comes back through GET /api/v1/devices (from whichever process).
    async function followSound(row, check) {
      for (let i = 0; i < 20; i += 1) {
        await new Promise((resolve) => { window.setTimeout(resolve, 1000); });
        const result = await send("GET", "/api/v1/devices");
        const device = result.ok
          ? result.data.devices.find((d) => d.id === row.dataset.device) : null;
        const last = device && device.sound && device.sound.last_check;
        if (last && last.id === check && typeof last.played === "boolean") {
          row.dataset.sound = last.played ? "played" : "silent";
          return show(last.played ? text.sound_played : text.sound_silent,
                      last.played ? "ok" : "error");
        }
      }
      row.dataset.sound = "no_answer";
      return show(text.sound_no_answer, "error");
    }

    document.querySelectorAll("#devices tr[data-device]").forEach((row) => {
      const id = row.dataset.device;
      row.querySelectorAll("button[data-action]").forEach((button) => {
        button.addEventListener("click", async () => {
          const action = button.dataset.action;
          let result;
          if (action === "rename") {
            result = await send("PATCH", url(id), {name: row.querySelector("[name=name]").value});
          } else if (action === "revoke") {
            const q = text.confirm_revoke;
            if (!window.confirm(`${q.id.replace("{device}", id)} / ${q.en.replace("{device}", id)}`)) {
              return null;
            }
            result = await send("DELETE", url(id));
          } else if (action === "sound-check") {
            const office = encodeURIComponent(button.dataset.office);
            result = await send("POST", `/api/v1/offices/${office}/sound-check`, {});
            if (result.ok) {
              show(text.sound_sent, "ok");
              return followSound(row, result.data.check);
            }
          } else if (action === "test-print") {
            result = await send("POST", `${url(id)}/test-print`);
            if (result.ok) {
              show(text.printing, "ok");
              return followJob(result.data.print.id);
            }
          }
          if (result && result.ok) return flashAfterReload(text.saved);
          return result ? refused(result, text) : null;
        });
      });
    });
  }

  // --- settings for every office (the global live tables) ----------------------------------
  function settingsPage() {
    const text = readJson("settings-text");
    document.querySelectorAll("form[data-kind=global]").forEach((form) => {
      form.addEventListener("submit", async (event) => {
        event.preventDefault();
        // Only what the admin changed: the audit log then says exactly that (old -> new).
        const changes = {};
        for (const input of form.querySelectorAll("[data-key]")) {
          const initial = JSON.parse(input.dataset.initial);
          let value;
          if (input.dataset.type === "check") value = input.checked;
          else if (input.dataset.type === "number") value = toNumber(input.value.trim());
          else value = input.value.trim() === "" ? null : input.value;
          if (value !== initial) changes[input.name] = value;  // null: back to the default
        }
        if (!Object.keys(changes).length) return show(text.unchanged, "ok");
        const result = await send("PATCH", "/api/v1/config",
                                  {[form.dataset.table]: changes}, true);
        if (result.ok) return flashAfterReload(text.saved);
        return refused(result, text);
      });
    });
  }

  window.GiliranAdmin = {send, show, refused, flashAfterReload, readJson, main};
  if (page === "settings") settingsPage();
  if (page === "staff") staffPage();
  if (page === "devices") devicesPage();
  if (page === "office") officePage();
  if (page === "overview") overviewPage();
  if (page === "audit") auditPage();
})();
