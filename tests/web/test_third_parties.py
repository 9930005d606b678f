"""Nothing leaves for a third party and no client address is logged (issue 11, item 10).

- /api/docs is served from the app's own files: no CDN, no outside favicon, no validator badge;
- `newsletter serve` with the `websockets` package installed (as uvicorn[standard] brings it) logs no
  client address on a WebSocket attempt, nor on anything else.
"""

from __future__ import annotations

import logging
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from newsletter.logs import RedactingFilter, mask_addresses
from tests.support.net import free_port, wait_for_port

CLIENT_IP = "127.0.0.3"  # a loopback address of our own, distinctive enough to search for
URL_ATTR = re.compile(r'(?:src|href)="([^"]*)"')


def test_docs_page_loads_only_local_files(live_server: str) -> None:
    with httpx.Client(base_url=live_server, timeout=30) as http:
        page = http.get("/api/docs")
        assert page.status_code == 200 and "swagger-ui" in page.text
        urls = URL_ATTR.findall(page.text)
        assert urls and all(u.startswith("/") and not u.startswith("//") for u in urls), urls
        assert "http://" not in page.text and "https://" not in page.text
        start = http.get("/api/docs/start.js")
        assert start.status_code == 200 and "validatorUrl: null" in start.text and "http" not in start.text
        assert '"/api/openapi.json"' in start.text
        for url in urls:
            asset = http.get(url)
            assert asset.status_code == 200 and len(asset.content) > 100, url
        assert http.get("/api/docs/../../etc/passwd").status_code == 404
        assert http.get("/api/docs/redoc.standalone.js").status_code == 404  # only what the page needs
        assert http.get("/api/openapi.json").json()["paths"]["/api/incidents"]


@pytest.mark.browser
def test_docs_page_works_in_chromium_without_any_outside_request(live_server: str, page) -> None:  # type: ignore[no-untyped-def]
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    csp_errors: list[str] = []
    page.on("console", lambda msg: csp_errors.append(msg.text) if "Content Security Policy" in msg.text else None)
    page.goto(f"{live_server}/api/docs")
    path = page.wait_for_selector(".opblock-summary-path", timeout=15_000)
    assert path.inner_text().strip() == "/api/incidents"  # Swagger UI ran and read our schema
    assert requested and all(url.startswith(live_server) or url.startswith("data:") for url in requested), requested
    assert csp_errors == []


def test_websocket_attempts_and_requests_log_no_client_address(settings_env: dict[str, str], tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """The real server process, with websockets installed and DEBUG logging: a WebSocket handshake, a
    page and a bad request from CLIENT_IP; its stdout and stderr must not contain that address."""
    import websockets
    from websockets.sync.client import connect

    assert websockets.__version__  # installed, so uvicorn's "auto" would pick it
    monkeypatch.setenv("NEWSLETTER_LOG_LEVEL", "DEBUG")
    port = free_port()
    out_path, err_path = tmp_path / "server.out", tmp_path / "server.err"
    with out_path.open("wb") as out, err_path.open("wb") as err:
        server = subprocess.Popen([str(Path(sys.executable).parent / "newsletter"), "serve", "--host", "127.0.0.1",
                                   "--port", str(port)], stdout=out, stderr=err, env=os.environ.copy())
        try:
            wait_for_port(port, timeout=60)
            for path in ("/", "/api/incidents", "/issues/"):
                sock = socket.create_connection(("127.0.0.1", port), source_address=(CLIENT_IP, 0), timeout=30)
                with pytest.raises(Exception):  # noqa: B017 - refused either way: no WebSocket endpoint here
                    with connect(f"ws://127.0.0.1:{port}{path}", sock=sock, open_timeout=30):
                        pass
                sock.close()
            transport = httpx.HTTPTransport(local_address=CLIENT_IP)
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", transport=transport, timeout=30) as http:
                assert http.get("/submit").status_code == 200
                assert http.get("/issues/%00").status_code == 404
                assert http.get("/editor/issues/1").status_code in (303, 200)
            with socket.create_connection(("127.0.0.1", port), source_address=(CLIENT_IP, 0), timeout=30) as raw:
                raw.sendall(b"NOT HTTP AT ALL\r\n\r\n")
                raw.recv(1024)
        finally:
            server.terminate()
            server.wait(timeout=30)
    output = out_path.read_text(errors="replace") + err_path.read_text(errors="replace")
    assert "serving on" in output  # the capture works
    assert "Unsupported upgrade request" in output  # the WebSocket attempts reached the server
    assert CLIENT_IP not in output, output[-3000:]


def test_address_masking_of_uvicorn_records() -> None:
    """The last line of defence in newsletter.logs: uvicorn records never show an address."""
    record = logging.LogRecord("uvicorn.error", logging.INFO, __file__, 1, '%s - "WebSocket %s" 403',
                               ("127.0.0.3:40112", "/"), None)
    assert RedactingFilter().filter(record) and record.getMessage() == '[address] - "WebSocket /" 403'
    assert mask_addresses("[2001:db8::5]:443 and ::1") == "[address] and [address]"
    assert mask_addresses("version 1.2.3 at 12:30") == "version 1.2.3 at 12:30"
