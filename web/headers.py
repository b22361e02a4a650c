"""Security headers on every answer, in one place (issue 18, finding 12).

The policy allows a server-rendered console with same-origin scripts, styles, images and
fetches only: no inline script, no framing by other sites; the console (web/shell.py) and the
API share this one policy.
"""

from __future__ import annotations

from aiohttp import web

from web.keys import CONFIG

CSP = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "media-src 'self'",  # the console plays uploaded prompts
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",  # never to other sites; the console's own forms keep it
    "Cross-Origin-Opener-Policy": "same-origin",
    "Server": "outdial",  # no version banner (aiohttp's default names Python and itself)
}
HSTS = "max-age=31536000; includeSubDomains"


async def _add(request: web.Request, response: web.StreamResponse) -> None:
    for name, value in HEADERS.items():
        response.headers[name] = value
    if request.app[CONFIG].secure_cookies:  # served over HTTPS: tell browsers to stay there
        response.headers["Strict-Transport-Security"] = HSTS


def setup(app: web.Application) -> None:
    app.on_response_prepare.append(_add)
