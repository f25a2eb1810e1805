"""Where a page may send the browser after it: a path on this server, never elsewhere.

Every view that redirects to a ``next`` someone else could have written (a link in a
mail, a query string) goes through ``local_path``. A string prefix test is not enough:
browsers drop tabs and newlines inside a URL and read a backslash as a slash, so
``/\\t/evil.example`` and ``/\\evil.example`` both become ``//evil.example``, another
host. The target is parsed as a URL, resolved against this server's own address, and
kept only when scheme and host are still this server's; what is returned is the path
re-assembled from the parsed parts, not the text that came in.
"""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit, urlunsplit

# A local path is short; anything longer is not one we made.
MAX_LENGTH = 2000
# Resolved against a base of our own: any scheme or host change in the target shows.
_BASE = "http://xephang.invalid/"


def local_path(target: object) -> str | None:
    """``target`` as a path (with query and fragment) on this server, or None if it is not one."""
    if not isinstance(target, str) or not target or len(target) > MAX_LENGTH:
        return None
    # Control characters (tab, CR, LF, NUL, DEL…) are stripped or misread by browsers;
    # a backslash is a slash to them. Neither belongs in a path we send people to.
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F or ch == "\\" for ch in target):
        return None
    if not target.startswith("/") or target.startswith("//"):
        return None
    try:
        parts = urlsplit(target)
        resolved = urlsplit(urljoin(_BASE, target))
    except ValueError:  # e.g. an unbalanced "[" read as an IPv6 host
        return None
    base = urlsplit(_BASE)
    if parts.scheme or parts.netloc:
        return None
    if (resolved.scheme, resolved.netloc) != (base.scheme, base.netloc):
        return None
    path = urlunsplit(("", "", parts.path, parts.query, parts.fragment))
    # Re-assembled, the path must still be one: never "//host" (scheme-relative).
    if not path.startswith("/") or path.startswith("//"):
        return None
    return path
