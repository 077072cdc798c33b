"""Web fallbacks: the UIA stage page (§User-Interactive Authentication API, Fallback) and
the login page (§Login Fallback). Both are small self-contained HTML pages with a
strict Content-Security-Policy; every value placed in them is HTML-escaped."""

from __future__ import annotations

import base64
import hashlib
import html
from importlib import resources
from typing import Any
from urllib.parse import parse_qs

from myelin.api.http import AUTH_NONE, Request, Response, endpoint
from myelin.config import Config
from myelin.protocol.errors import ProtocolError
from myelin.services.accounts import AccountService
from myelin.services.uia import DUMMY, PASSWORD, REGISTRATION_TOKEN, TERMS, UiaRequired, UiaService

# The script the spec prescribes for the end of a fallback stage.
_DONE_SCRIPT = (
    'if (window.onAuthDone) { window.onAuthDone(); } '
    'else if (window.opener && window.opener.postMessage) '
    '{ window.opener.postMessage("authDone", "*"); }'
)


def _csp_for(script: str | None) -> bytes:
    policy = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; connect-src 'self'"
    if script is not None:
        digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
        policy += f"; script-src 'sha256-{digest}'"
    return policy.encode()


def _page(title: str, body: str, *, script: str | None = None, status: int = 200) -> Response:
    script_tag = f"<script>{script}</script>" if script else ""
    doc = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem}}
input,button{{font-size:1rem;padding:.4rem;margin:.3rem 0;width:100%;box-sizing:border-box}}
.error{{color:#b00020}}</style></head>
<body><h1>{html.escape(title)}</h1>{body}{script_tag}</body></html>"""
    return Response(doc.encode(), status=status, content_type="text/html; charset=utf-8",
                    headers=[(b"content-security-policy", _csp_for(script)),
                             (b"x-content-type-options", b"nosniff"),
                             (b"referrer-policy", b"no-referrer"),
                             (b"cache-control", b"no-store")])


_STAGE_TITLES = {
    DUMMY: "Continue",
    PASSWORD: "Confirm your password",
    REGISTRATION_TOKEN: "Registration token",
    TERMS: "Terms and conditions",
}


class FallbackEndpoints:
    def __init__(self, *, config: Config, accounts: AccountService, uia: UiaService) -> None:
        self._config = config
        self._accounts = accounts
        self._uia = uia
        self._login_page = resources.files("myelin.api.static").joinpath(
            "login.html").read_bytes()
        self._login_script = resources.files("myelin.api.static").joinpath(
            "login.js").read_text()

    def _form(self, stage: str, session_id: str, error: str | None) -> Response:
        session = self._uia.get(session_id)
        if session is None:
            return _page("Unknown session", "<p class=error>This authentication session is "
                         "unknown or has expired. Go back to your app and try again.</p>",
                         status=404)
        fields = ""
        if stage == PASSWORD:
            who = (f"<p>Account: {html.escape(session.owner)}</p>" if session.owner else
                   '<label>Username<input name=user autocomplete=username required '
                   'autofocus></label>')
            fields = (who + '<label>Password<input type=password name=password '
                      'autocomplete=current-password required></label>')
        elif stage == REGISTRATION_TOKEN:
            fields = ('<label>Token<input name=token required autofocus '
                      'autocomplete=off></label>')
        elif stage == TERMS:
            items = []
            for name, policy in self._config.registration.terms.items():
                lang = next((v for k, v in policy.items() if k != "version"
                             and isinstance(v, dict)), {})
                items.append(f'<li><a href="{html.escape(str(lang.get("url", "")))}" '
                             f'target=_blank rel=noopener>{html.escape(str(lang.get("name", name)))}'
                             f"</a> (version {html.escape(policy['version'])})</li>")
            fields = (f"<ul>{''.join(items)}</ul><label><input type=checkbox name=accept "
                      "value=yes required style='width:auto'> I accept these terms</label>")
        err = f"<p class=error>{html.escape(error)}</p>" if error else ""
        body = (f"{err}<form method=post>{fields}"
                f"<input type=hidden name=session value=\"{html.escape(session_id)}\">"
                "<button type=submit>Continue</button></form>")
        return _page(_STAGE_TITLES[stage], body)

    @endpoint("GET", "/auth/{authType}/fallback/web", versions=("r0", "v3"), auth=AUTH_NONE)
    async def stage_page(self, req: Request) -> Response:
        """GET /_matrix/client/v3/auth/{authType}/fallback/web?session="""
        stage = req.param("authType")
        if stage not in _STAGE_TITLES:
            return _page("Unsupported", "<p class=error>This server does not offer that "
                         "authentication stage.</p>", status=404)
        return self._form(stage, req.require_query("session"), None)

    @endpoint("POST", "/auth/{authType}/fallback/web", versions=("r0", "v3"), auth=AUTH_NONE,
              rate_limit="login")
    async def stage_submit(self, req: Request) -> Response:
        """POST (form) /_matrix/client/v3/auth/{authType}/fallback/web: performs the stage."""
        stage = req.param("authType")
        if stage not in _STAGE_TITLES:
            return _page("Unsupported", "<p class=error>This server does not offer that "
                         "authentication stage.</p>", status=404)
        form = {k: v[-1] for k, v in parse_qs(req.body.decode("utf-8", errors="replace")).items()}
        session_id = form.get("session") or req.query_str("session") or ""
        session = self._uia.get(session_id)
        if session is None:
            return self._form(stage, session_id, None)
        auth: dict[str, Any] = {"type": stage, "session": session_id}
        if stage == PASSWORD:
            auth.update({"identifier": {"type": "m.id.user",
                                        "user": session.owner or form.get("user", "")},
                         "password": form.get("password", "")})
        elif stage == REGISTRATION_TOKEN:
            auth["token"] = form.get("token", "")
        elif stage == TERMS and form.get("accept") != "yes":
            return self._form(stage, session_id, "Please accept the terms to continue.")
        try:
            await self._uia.submit_out_of_band(session_id, auth,
                                               self._accounts.checkers_for_session(session))
        except UiaRequired as e:
            return self._form(stage, session_id, str(e.body.get("error", "Failed")))
        except ProtocolError as e:
            return self._form(stage, session_id, e.message)
        return _page("Done", "<p>Thank you. You can close this window and return to your app.</p>",
                     script=_DONE_SCRIPT)

    @endpoint("GET", "/_matrix/static/client/login/", auth=AUTH_NONE)
    async def login_page(self, req: Request) -> Response:
        """GET /_matrix/static/client/login/: a page that logs in through POST /login and hands
        the response to window.matrixLogin.onLogin (§Login Fallback)."""
        return Response(self._login_page, content_type="text/html; charset=utf-8", headers=[
            (b"content-security-policy", b"default-src 'none'; script-src 'self'; "
             b"style-src 'unsafe-inline'; connect-src 'self'; form-action 'self'"),
            (b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer")])

    @endpoint("GET", "/_matrix/static/client/login/login.js", auth=AUTH_NONE)
    async def login_script(self, req: Request) -> Response:
        return Response(self._login_script.encode(), content_type="text/javascript; charset=utf-8",
                        headers=[(b"x-content-type-options", b"nosniff")])

