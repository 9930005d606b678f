"""How uvicorn runs the app: the options that keep client addresses out of every log.

- access_log off: an access line starts with the client's address;
- ws "none": uvicorn's WebSocket protocols (picked automatically when `websockets` or `wsproto` is
  installed, as uvicorn[standard] does) log '<address> - "WebSocket /path" 403' on every attempt, at
  INFO, through uvicorn.error, whatever access_log says. The app has no WebSocket route, so an
  upgrade request is answered as plain HTTP instead;
- proxy_headers off: X-Forwarded-For is never read, so no forwarded address enters a request;
- log_config None: uvicorn keeps its hands off logging; newsletter.logs configures it (and masks
  any address in uvicorn's records as a last line of defence).
"""

from __future__ import annotations

from typing import Any

SERVER_OPTIONS: dict[str, Any] = {
    "access_log": False,
    "ws": "none",
    "proxy_headers": False,
    "server_header": False,
    "log_config": None,
}
