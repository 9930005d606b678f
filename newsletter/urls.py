"""URL canonicalisation shared by the collector, imports and merges: one event, one canonical link."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, unquote_plus, urlencode, urlsplit, urlunsplit

# Campaign and click-tracking parameters carry no meaning about the page itself.
_TRACKING_PREFIXES = ("utm_", "mc_", "fbclid", "gclid", "yclid", "_hs")
# What we publish must not carry them either: they tell the tracker which newsletter a reader came
# from. Names from the common click-id and campaign families (ClearURLs' and AdGuard's global rules).
_TRACKING_NAMES = frozenset("""
    fbclid gclid gclsrc dclid gbraid wbraid msclkid yclid ysclid twclid ttclid li_fat_id igshid
    mc_cid mc_eid mkt_tok _hsenc _hsmi __hstc __hssc __hsfp hsctatracking _ga _gl _openstat
    oly_anon_id oly_enc_id vero_id vero_conv wt_mc rb_clickid s_cid srsltid ref_src ref_url
    """.split())


# The usual link, http(s)://host/path with a lower-case ASCII host and nothing else (no port, user,
# query, fragment, space or control character; the path only RFC 3986 path characters), is already
# in canonical form but for its path's end: it skips the splitting, query parsing and rejoining.
_PLAIN = re.compile(r"(https?)://([a-z0-9._-]+)(/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*)?")


def canonical_url(url: str) -> str:
    """Lower-case scheme and host, drop default ports, fragments and tracking parameters, sort the query."""
    url = url.strip()
    plain = _PLAIN.fullmatch(url)
    if plain is None:
        return _canonical(url)
    path = plain.group(3) or "/"
    if len(path) > 1 and path.endswith("/"):
        path = path[:-1]
    return f"{plain.group(1)}://{plain.group(2)}{path}"


def _canonical(url: str) -> str:
    """canonical_url for every other shape (and the reference its fast path is tested against)."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    port = parts.port
    if port and not ((scheme == "http" and port == 80) or (scheme == "https" and port == 443)):
        host = f"{host}:{port}"
    path = parts.path or "/"
    if len(path) > 1 and path.endswith("/"):
        path = path[:-1]
    query = sorted(
        (k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not k.lower().startswith(_TRACKING_PREFIXES)
    )
    return urlunsplit((scheme, host, path, urlencode(query), ""))


def is_tracking_parameter(name: str) -> bool:
    lowered = name.lower()
    return lowered.startswith("utm_") or lowered in _TRACKING_NAMES


def without_tracking(url: str) -> str:
    """The same address without campaign and click-tracking parameters, for every link we publish.

    Everything else is kept as written (order, encoding, fragment), so the page still opens.
    """
    parts = urlsplit(url)
    if not parts.query:
        return url
    kept = [pair for pair in parts.query.split("&")
            if pair and not is_tracking_parameter(unquote_plus(pair.partition("=")[0]))]
    return urlunsplit(parts._replace(query="&".join(kept)))
