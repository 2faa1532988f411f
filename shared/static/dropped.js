// A page whose Socket.IO connection the server ended loads itself again.
//
// The server ends a page's connection when its access ended or changed: the account's
// sessions ended (a logout elsewhere, a new password, an admin), its role or office
// changed, or the device was revoked (shared/connections.py). socket.io-client does not
// reconnect after that ("io server disconnect"), so the page would stay offline with the
// rights it was opened with. Loaded again, it asks for a login, shows the new rights, or
// says the device is no longer enrolled.
//
// The page is loaded again only once the server answers a request for it without a
// server error, so a screen on the wall never replaces itself with an error page that has
// no script left to recover. A restart or a lost network is a different reason:
// socket.io-client reconnects by itself then, and nothing here runs.
(function () {
  "use strict";
  const FIRST_MS = 1500;
  const RETRY_MS = 5000;

  function later() {
    window.setTimeout(reloadOnceAnswering, RETRY_MS);
  }

  function reloadOnceAnswering() {
    // A redirect (to the login form) is answered as status 0 here, and counts as an answer.
    fetch(window.location.href, {method: "HEAD", credentials: "same-origin",
                                 cache: "no-store", redirect: "manual"})
      .then((answer) => (answer.status >= 500 ? later() : window.location.reload()), later);
  }

  window.giliranReloadWhenDropped = function (socket) {
    socket.on("disconnect", (reason) => {
      if (reason === "io server disconnect") window.setTimeout(reloadOnceAnswering, FIRST_MS);
    });
  };
})();
