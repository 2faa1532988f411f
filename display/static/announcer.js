/*
 * Giliran announcer: speaks queue calls on the waiting-room board.
 *
 *   <script src="/display/static/announcer.js"></script>
 *   GiliranAnnouncer.configure({repeat: 1, onLockChange: (locked) => mark(locked)});
 *   GiliranAnnouncer.enqueue({number: "B012", urls: called.announce, recall: called.recall});
 *
 * Each call is a list of clip URLs (chime, Indonesian words, English words). Every clip is
 * fetched and decoded once (Web Audio API) and kept; a call's clips are scheduled back to
 * back on the AudioContext timeline, so there is no gap between words. Calls wait in a
 * queue and are spoken one at a time, in order: a burst of calls is never cut off or
 * overlapped. A call is spoken `repeat` times; a recall is always spoken again (it is never
 * merged with an earlier call of the same number), `recallRepeat` times.
 *
 * Browsers start audio "locked" (the AudioContext is suspended) until the first click, key
 * or touch on the page, unless Chromium runs with --autoplay-policy=no-user-gesture-required.
 * `locked` tells the state and `onLockChange(locked)` is called on every change (and at once
 * when it is set), so the board can show an "audio locked" mark. Calls made while locked
 * wait; on unlock, calls older than `maxAgeMs` are dropped (listed in `dropped`) instead of
 * being read out late.
 *
 * For tests and the board: `log` holds {number, recall, started_at, ended_at, clips, repeat}
 * per spoken call (performance.now() milliseconds), and window receives "announce-start",
 * "announce-end" and "announce-lock" events (CustomEvent, the entry or {locked} as detail).
 */
(() => {
  "use strict";

  const LEAD_SECONDS = 0.05;  // scheduling head-room so the first clip is never clipped
  const LOG_LIMIT = 200;
  const UNLOCK_EVENTS = ["pointerdown", "click", "keydown", "touchend"];

  class Announcer {
    constructor() {
      this.repeat = 1;
      this.recallRepeat = null;        // null: same as repeat
      this.repeatGapSeconds = 0.7;     // silence between two readings of the same call
      this.maxAgeMs = 60000;
      this.log = [];
      this.dropped = [];
      this._onLockChange = null;
      this._queue = [];
      this._buffers = new Map();       // url -> Promise<AudioBuffer|null>
      this._current = null;
      this._busy = false;
      this._lastEnd = 0;               // AudioContext time when the last scheduled clip ends
      this._idleWaiters = [];
      this._unlockWaiters = [];
      this._reportedLocked = null;
      this._ctx = this._createContext();
      this._output = null;
      if (this._ctx) {
        this._output = this._ctx.createGain();
        this._output.connect(this._ctx.destination);
        this._ctx.addEventListener("statechange", () => this._lockMaybeChanged());
      }
      this._unlockHandler = () => { this.unlock(); };
      for (const name of UNLOCK_EVENTS) {
        window.addEventListener(name, this._unlockHandler, {capture: true, passive: true});
      }
      this._lockMaybeChanged();
    }

    _createContext() {
      const AudioContextClass = window.AudioContext || window.webkitAudioContext;
      if (!AudioContextClass) {
        console.warn("GiliranAnnouncer: this browser has no Web Audio API");
        return null;
      }
      try {
        return new AudioContextClass({latencyHint: "playback"});
      } catch (error) {
        console.warn("GiliranAnnouncer: no audio output", error);
        return null;
      }
    }

    /** True while the browser does not let the page play sound. */
    get locked() {
      return !this._ctx || this._ctx.state !== "running";
    }

    get onLockChange() {
      return this._onLockChange;
    }

    set onLockChange(callback) {
      this._onLockChange = typeof callback === "function" ? callback : null;
      if (this._onLockChange) this._onLockChange(this.locked);
    }

    /** The call being spoken now, or null. */
    get current() {
      return this._current;
    }

    /** Calls waiting to be spoken (not counting the current one). */
    get pending() {
      return this._queue.length;
    }

    set volume(value) {
      if (this._output) this._output.gain.value = Math.max(0, Math.min(1, Number(value)));
    }

    get volume() {
      return this._output ? this._output.gain.value : 0;
    }

    /**
     * Options: repeat, recallRepeat, repeatGapSeconds, maxAgeMs, volume (0..1), onLockChange.
     */
    configure(options = {}) {
      if (Number.isInteger(options.repeat) && options.repeat >= 1) this.repeat = options.repeat;
      if (Number.isInteger(options.recallRepeat) && options.recallRepeat >= 1) {
        this.recallRepeat = options.recallRepeat;
      }
      if (Number.isFinite(options.repeatGapSeconds) && options.repeatGapSeconds >= 0) {
        this.repeatGapSeconds = options.repeatGapSeconds;
      }
      if (Number.isFinite(options.maxAgeMs) && options.maxAgeMs > 0) {
        this.maxAgeMs = options.maxAgeMs;
      }
      if (options.volume !== undefined) this.volume = options.volume;
      if (options.onLockChange !== undefined) this.onLockChange = options.onLockChange;
      return this;
    }

    /** Try to start audio; browsers allow it inside a user gesture. Resolves to !locked. */
    async unlock() {
      if (!this._ctx) return false;
      if (this._ctx.state === "suspended") {
        try {
          await this._ctx.resume();
        } catch (error) {
          console.warn("GiliranAnnouncer: audio still locked", error);
        }
      }
      this._lockMaybeChanged();
      return !this.locked;
    }

    _lockMaybeChanged() {
      const locked = this.locked;
      if (locked === this._reportedLocked) return;
      this._reportedLocked = locked;
      if (!locked) {
        for (const resolve of this._unlockWaiters.splice(0)) resolve();
      }
      if (this._onLockChange) {
        try {
          this._onLockChange(locked);
        } catch (error) {
          console.error("GiliranAnnouncer: onLockChange failed", error);
        }
      }
      window.dispatchEvent(new CustomEvent("announce-lock", {detail: {locked}}));
    }

    _whenUnlocked() {
      if (!this.locked) return Promise.resolve();
      return new Promise((resolve) => this._unlockWaiters.push(resolve));
    }

    /** Fetch and decode clips ahead of time (each URL once). */
    preload(urls) {
      return Promise.all((urls || []).map((url) => this._buffer(url)));
    }

    _buffer(url) {
      let promise = this._buffers.get(url);
      if (!promise) {
        promise = fetch(url)
          .then((response) => {
            if (!response.ok) throw new Error(`HTTP ${response.status}`);
            return response.arrayBuffer();
          })
          .then((data) => this._ctx.decodeAudioData(data))
          .catch((error) => {
            console.warn(`GiliranAnnouncer: clip ${url} skipped`, error);
            this._buffers.delete(url);  // try again with the next call
            return null;
          });
        this._buffers.set(url, promise);
      }
      return promise;
    }

    /**
     * Queue a call: {number, urls, recall=false, repeat}. Resolves with its log entry when
     * it has been spoken, or null when it was dropped. A call (not a recall) identical to
     * one waiting or being spoken (same number and clips) is merged with it.
     */
    enqueue({number, urls, recall = false, repeat} = {}) {
      const item = {
        number: String(number ?? ""),
        urls: Array.isArray(urls) ? urls.slice() : [],
        recall: Boolean(recall),
        repeat: Number.isInteger(repeat) && repeat >= 1 ? repeat : null,
        queuedAt: performance.now(),
      };
      item.key = `${item.number}|${item.urls.join(",")}`;
      if (!item.recall) {
        // The same call delivered twice (a reconnect, a repeated event) is spoken once.
        const same = [this._current, ...this._queue].find(
          (other) => other && !other.recall && other.key === item.key);
        if (same) return same.done;
      }
      item.done = new Promise((resolve) => { item.resolve = resolve; });
      if (!this._ctx) {
        this._drop(item, "no_audio");
        return item.done;
      }
      this.preload(item.urls);
      this._queue.push(item);
      this._pump();
      return item.done;
    }

    /** Resolves when nothing is queued or being spoken. */
    idle() {
      if (!this._busy && this._queue.length === 0) return Promise.resolve();
      return new Promise((resolve) => this._idleWaiters.push(resolve));
    }

    /** Forget waiting calls (they are dropped, not spoken); the current call finishes. */
    clear() {
      for (const item of this._queue.splice(0)) this._drop(item, "cleared");
    }

    _drop(item, reason) {
      this.dropped.push({number: item.number, recall: item.recall, reason,
                         at: performance.now()});
      if (this.dropped.length > LOG_LIMIT) this.dropped.shift();
      item.resolve(null);
    }

    async _pump() {
      if (this._busy) return;
      this._busy = true;
      try {
        while (this._queue.length > 0) {
          if (this.locked) {
            await this._whenUnlocked();
            const now = performance.now();
            const fresh = [];
            for (const item of this._queue.splice(0)) {
              if (now - item.queuedAt > this.maxAgeMs) this._drop(item, "stale");
              else fresh.push(item);
            }
            this._queue.push(...fresh);
            continue;
          }
          const item = this._queue.shift();
          this._current = item;
          try {
            item.resolve(await this._speak(item));
          } catch (error) {
            console.error("GiliranAnnouncer: call not spoken", error);
            this._drop(item, "error");
          } finally {
            this._current = null;
          }
        }
      } finally {
        this._busy = false;
        for (const resolve of this._idleWaiters.splice(0)) resolve();
      }
    }

    async _speak(item) {
      const buffers = (await Promise.all(item.urls.map((url) => this._buffer(url))))
        .filter(Boolean);
      const times = item.repeat
        ?? (item.recall ? (this.recallRepeat ?? this.repeat) : this.repeat);
      const ctx = this._ctx;
      // Never start before the previous call's last clip has ended.
      const start = Math.max(ctx.currentTime, this._lastEnd) + LEAD_SECONDS;
      let at = start;
      const sources = [];
      for (let round = 0; round < times; round += 1) {
        if (round > 0) at += this.repeatGapSeconds;
        for (const buffer of buffers) {
          const source = ctx.createBufferSource();
          source.buffer = buffer;
          source.connect(this._output);
          source.start(at);
          at += buffer.duration;
          sources.push(source);
        }
      }
      this._lastEnd = at;
      const entry = {
        number: item.number,
        recall: item.recall,
        started_at: performance.now(),
        ended_at: null,
        clips: buffers.length,
        repeat: times,
      };
      window.dispatchEvent(new CustomEvent("announce-start", {detail: entry}));
      await this._ended(sources, at);
      entry.ended_at = performance.now();
      this.log.push(entry);
      if (this.log.length > LOG_LIMIT) this.log.shift();
      window.dispatchEvent(new CustomEvent("announce-end", {detail: entry}));
      return entry;
    }

    /** Resolves when the last source has played (or stops them all if audio stalls). */
    _ended(sources, endTime) {
      if (sources.length === 0) return Promise.resolve();
      const ctx = this._ctx;
      return new Promise((resolve) => {
        let finished = false;
        let watchdog = null;
        const finish = () => {
          if (finished) return;
          finished = true;
          clearTimeout(watchdog);
          resolve();
        };
        sources[sources.length - 1].addEventListener("ended", finish);
        // If the context is suspended mid-call, "ended" never comes: stop the call so the
        // next one cannot overlap it when audio comes back.
        const check = () => {
          if (finished) return;
          if (ctx.state !== "running" || ctx.currentTime > endTime + 1) {
            for (const source of sources) {
              try { source.stop(); } catch (error) { /* not started yet */ }
            }
            this._lastEnd = 0;
            finish();
            return;
          }
          watchdog = setTimeout(check, Math.max(250, (endTime - ctx.currentTime) * 1000 + 1000));
        };
        watchdog = setTimeout(check, (endTime - ctx.currentTime) * 1000 + 1000);
      });
    }
  }

  window.GiliranAnnouncer = new Announcer();
})();
