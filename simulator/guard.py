"""Who may talk to the simulator: callers at its own address, and the web chat's own page.

The simulator listens on loopback only, yet any page the demo's user visits
can make their browser send requests to 127.0.0.1 (cross-site request
forgery), and a site whose name is made to resolve to 127.0.0.1 becomes
same-origin with it (DNS rebinding). So:

- every request must name the simulator's own address in Host
  (127.0.0.1:<port> or localhost:<port>), which a rebound name cannot;
- a request a browser makes for another site's page is refused: on the web
  chat's state-changing requests, and on every Bot API request (the bot is no
  browser, and the demo's token is no secret);
- the web chat's state-changing requests carry JSON (415 otherwise), except
  uploads, which carry multipart: a cross-site <form> cannot send JSON, and a
  cross-site script can only after a CORS preflight that is never approved.

A browser says where a request comes from by Origin (current browsers send it
on every POST), else Sec-Fetch-Site, else Referer; they are checked in that
order. A request with none of the three is not from a browser that could be
made to forge it (the bot, a test, curl on this machine), so it is let through:
it still had to pass the Host check, and on the JSON endpoints the content
type check, which a form from an old browser that sends no Origin cannot pass.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from aiohttp import hdrs, web
from yarl import URL

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# What Sec-Fetch-Site says when the page itself, or the user typing the address, asked.
_OWN_FETCH_SITES = frozenset({"same-origin", "none"})
WRONG_HOST = "Forbidden: wrong Host header"
CROSS_ORIGIN = "Forbidden: cross-origin request"


def own_hosts(host: str, port: int) -> frozenset[str]:
    """The Host headers that name the simulator at `host:port` (lower case)."""
    names = {host.lower(), "127.0.0.1", "localhost"}
    hosts = {f"{name}:{port}" for name in names}
    if port == 80:  # browsers leave out the default port
        hosts |= names
    return frozenset(hosts)


def from_another_site(headers: Any, hosts: Iterable[str]) -> bool:
    """Whether a browser sent this request on behalf of a page that is not ours."""
    origins = {f"http://{host}" for host in hosts}
    origin = headers.get(hdrs.ORIGIN)
    if origin is not None:
        # "null" (sandboxed frames, file:// pages) is nobody's origin, so not ours.
        return origin.lower() not in origins
    fetch_site = headers.get("Sec-Fetch-Site")
    if fetch_site is not None:
        return fetch_site.lower() not in _OWN_FETCH_SITES
    referer = headers.get(hdrs.REFERER)
    if referer is not None:
        try:
            return str(URL(referer).origin()).lower() not in origins
        except ValueError:
            return True
    return False


def _refusal(status: int, description: str) -> web.Response:
    """A refusal in the Bot API's shape, as the simulator's other refusals are."""
    body = {"ok": False, "error_code": status, "description": description}
    return web.json_response(body, status=status)


def same_site_only(
    host: str,
    port: Callable[[], int],
    web_chat_prefix: str = "/ui/",
    bot_api_prefixes: tuple[str, ...] = ("/bot", "/file/bot"),
    multipart_paths: Iterable[str] = (),
) -> Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]:
    """A middleware that applies the rules of the module docstring.

    `port` is asked on every request: the port is known only once bound.
    """
    multipart = frozenset(multipart_paths)

    @web.middleware
    async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        hosts = own_hosts(host, port())
        if request.headers.get(hdrs.HOST, "").lower() not in hosts:
            return _refusal(403, WRONG_HOST)
        path = request.path
        web_chat_write = path.startswith(web_chat_prefix) and request.method not in _SAFE_METHODS
        if (web_chat_write or path.startswith(bot_api_prefixes)) and from_another_site(
            request.headers, hosts
        ):
            return _refusal(403, CROSS_ORIGIN)
        if web_chat_write:
            wanted = "multipart/form-data" if path in multipart else "application/json"
            if request.content_type != wanted:
                return _refusal(415, f"Unsupported Media Type: send {wanted}")
        return await handler(request)

    return guard
