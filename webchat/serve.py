"""Serve the chat widget and its demo page on loopback, Python standard library only.

    python -m webchat.serve --port 8080 --rasa-url http://127.0.0.1:5005

`/` is `demo/index.html` with `{{RASA_URL}}`, `{{PHONE}}`, `{{PHONE_LINK}}` and `{{BOOKING_URL}}`
filled in (the phone and booking address from the clinic's settings). `/clinic-chat.js`,
`/clinic-chat.css` and `/demo/...` are served as they are (`/favicon.ico` is the demo's
`demo/favicon.svg`, for browsers that ask for it by that name); nothing else in this folder is
(no node_modules, no package files, no Python). Only GET and HEAD are answered, and the log
names the method, path and status of each request, never a body.
"""

from __future__ import annotations

import argparse
import html
import sys
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Dict, Optional
from urllib.parse import unquote, urlsplit

WEBCHAT_DIR = Path(__file__).resolve().parent
DEMO_PAGE = WEBCHAT_DIR / "demo" / "index.html"
FAVICON = WEBCHAT_DIR / "demo" / "favicon.svg"
TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
}


def fill(template: str, values: Dict[str, str]) -> str:
    """Put each value, HTML-escaped, in place of its `{{NAME}}`."""
    for name, value in values.items():
        template = template.replace("{{" + name + "}}", html.escape(value, quote=True))
    return template


def content_security_policy(rasa_url: str) -> str:
    """Only this server's own files; the page may talk to the Rasa server and nothing else."""
    parts = urlsplit(rasa_url)
    rasa_origin = f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        f"connect-src 'self' {rasa_origin}".strip()
        + "; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )


def resolve(path: str) -> Optional[Path]:
    """The file a URL path names, or None if it is not one this server shows."""
    if path in ("/", "/index.html"):
        return DEMO_PAGE
    if path == "/favicon.ico":
        return FAVICON
    if path in ("/clinic-chat.js", "/clinic-chat.css"):
        return WEBCHAT_DIR / path.lstrip("/")
    if path.startswith("/demo/"):
        if path == "/demo/":
            return DEMO_PAGE
        candidate = (WEBCHAT_DIR / path.lstrip("/")).resolve()
        demo_dir = (WEBCHAT_DIR / "demo").resolve()
        if demo_dir in candidate.parents and candidate.suffix in TYPES and candidate.is_file():
            return candidate
    return None


def make_handler(values: Dict[str, str], csp: str) -> type:
    """A request handler that serves the widget files with the page's values filled in."""

    class Handler(BaseHTTPRequestHandler):
        def version_string(self) -> str:
            return "clinic-webchat"

        def do_GET(self) -> None:  # noqa: N802 (the name http.server calls)
            self._serve(body=True)

        def do_HEAD(self) -> None:  # noqa: N802
            self._serve(body=False)

        def _serve(self, body: bool) -> None:
            target = resolve(unquote(urlsplit(self.path).path))
            if target is None or not target.is_file():
                self.send_error(HTTPStatus.NOT_FOUND, "Not found")
                return
            data = target.read_bytes()
            if target == DEMO_PAGE or target.suffix == ".html":
                data = fill(data.decode("utf-8"), values).encode("utf-8")
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", TYPES.get(target.suffix, "application/octet-stream"))
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-cache")
            self.send_header("X-Content-Type-Options", "nosniff")
            self.send_header("Referrer-Policy", "no-referrer")
            if target.suffix == ".html":
                self.send_header("Content-Security-Policy", csp)
            self.end_headers()
            if body:
                self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            # The request line only (method, path, protocol) and the status: never a body.
            sys.stderr.write(f"{self.address_string()} {format % args}\n")

    return Handler


def main(argv: Optional[list] = None) -> int:
    """Start the server and serve until interrupted."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--host", default="127.0.0.1", help="default: loopback only")
    parser.add_argument("--rasa-url", default="http://127.0.0.1:5005",
                        help="the Rasa server's base URL, as the visitor's browser reaches it")
    args = parser.parse_args(argv)

    from clinic.settings import SettingsError, load_settings

    try:
        settings = load_settings()
    except SettingsError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    rasa_url = args.rasa_url.rstrip("/")
    values = {
        "RASA_URL": rasa_url,
        "PHONE": settings.phone,
        "PHONE_LINK": settings.phone_link,
        "BOOKING_URL": settings.booking_url,
    }
    server = ThreadingHTTPServer((args.host, args.port), make_handler(values,
                                 content_security_policy(rasa_url)))
    server.daemon_threads = True
    print(f"Chat widget demo: http://{args.host}:{server.server_port}/ "
          f"(Rasa server {rasa_url})", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
