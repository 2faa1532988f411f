// A page whose access to the server's pushes ended loads itself again.
//
// The server ends a page's Socket.IO connection when its access ended or changed: the
// account's sessions ended (a logout elsewhere, a new password, an admin), its role or
// office changed, or the device was revoked (shared/connections.py). socket.io-client
// does not reconnect after that ("io server disconnect"), so the page would stay offline
// with the rights it was opened with. And a page that was away when its access ended (a
// restart, the network) is refused at every reconnection, and would stay offline too.
// Loaded again, it asks for a login, shows the new rights, or says the device is no
// longer enrolled.
//
// The page is loaded again only once the server answers a request for it without a
// server error, so a screen on the wall never replaces itself with an error page that has
// no script left to recover. A restart or a lost network alone changes nothing here:
// socket.io-client reconnects by itself then.
(function () {
  "use strict";
  const FIRST_MS = 1500;
  const RETRY_MS = 5000;
  // After a refused reconnection, how long before the page is asked for again while it
  // is still allowed (the refusal had another cause, such as too many connections).
  const REFUSED_CHECK_MS = 30000;

  function askForPage() {
    // A redirect (to the login form) is answered as an "opaqueredirect" here.
    return fetch(window.location.href, {method: "HEAD", credentials: "same-origin",
                                        cache: "no-store", redirect: "manual"});
  }

  function reloadOnceAnswering() {
    askForPage().then(
      (answer) => {
        if (answer.status >= 500) window.setTimeout(reloadOnceAnswering, RETRY_MS);
        else window.location.reload();
      },
      () => window.setTimeout(reloadOnceAnswering, RETRY_MS));
  }

  window.giliranReloadWhenDropped = function (socket) {
    let checked = 0;
    socket.on("disconnect", (reason) => {
      if (reason === "io server disconnect") window.setTimeout(reloadOnceAnswering, FIRST_MS);
    });
    socket.on("connect_error", () => {
      const now = Date.now();
      if (now - checked < REFUSED_CHECK_MS) return;
      checked = now;
      askForPage().then(
        (answer) => {
          const ended = answer.type === "opaqueredirect" || answer.status === 401
            || answer.status === 403;
          if (ended) window.location.reload();
          else if (answer.status >= 500) checked = 0;  // not really answered (a proxy's 502)
        },
        () => { checked = 0; });  // the server is away: ask again at the next refusal
    });
  };
})();
