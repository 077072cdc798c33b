// Login fallback (Client-Server API, Login Fallback): logs in through POST /login and
// hands the response to window.matrixLogin.onLogin. Non-credential /login parameters
// given in the query string (device_id, initial_device_display_name, refresh_token)
// are forwarded.
(function () {
  "use strict";
  var form = document.getElementById("login");
  var statusLine = document.getElementById("status");
  var query = new URLSearchParams(window.location.search);

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    statusLine.textContent = "";
    var body = {
      type: "m.login.password",
      identifier: { type: "m.id.user", user: document.getElementById("user").value },
      password: document.getElementById("password").value,
    };
    if (query.has("device_id")) body.device_id = query.get("device_id");
    if (query.has("initial_device_display_name")) {
      body.initial_device_display_name = query.get("initial_device_display_name");
    }
    if (query.get("refresh_token") === "true") body.refresh_token = true;
    fetch("/_matrix/client/v3/login", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    })
      .then(function (res) { return res.json().then(function (json) { return [res, json]; }); })
      .then(function (pair) {
        var res = pair[0], json = pair[1];
        if (!res.ok) {
          statusLine.textContent = json.error || "Sign-in failed";
          return;
        }
        if (window.matrixLogin && window.matrixLogin.onLogin) {
          window.matrixLogin.onLogin(json);
        } else {
          form.hidden = true;
          statusLine.className = "";
          statusLine.textContent = "Signed in. You can close this window.";
        }
      })
      .catch(function () { statusLine.textContent = "Could not reach the server"; });
  });
})();
