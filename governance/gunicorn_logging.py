"""gunicorn's logger for the web: the access log names the client the proxy forwards.

Behind the TLS proxy every request reaches gunicorn from the proxy's address, so gunicorn's access
log showed that one address for everyone. When the peer is in gunicorn's ``--forwarded-allow-ips``
(the proxy), the logged address is the last entry of X-Forwarded-For, the one the proxy appended
(earlier entries come from the client, unchecked): the same rule as ``governance.services.client_ip``
for the access log of personal data. Any other peer is logged as itself, whatever it sends.

The request line, the query and the referer are masked as the application's log is
(``governance.logging.mask_text``): gunicorn writes this log itself, apart from Django's logging and
its filter, and an ID number or a phone in a URL (typed into the admin's search, sent as a parameter,
a page's address in the referer) was written whole.

Used with ``--logger-class governance.gunicorn_logging.ForwardedForLogger`` (Dockerfile, compose,
README). Imports nothing of Django: gunicorn's master process loads it."""

import contextlib
import ipaddress
from urllib.parse import unquote_plus

from gunicorn.glogging import Logger

# The atoms that carry a URL: the request line, path and query, the referer (also as the header and
# environ atoms a custom --access-logformat may name).
URL_ATOMS = ("r", "U", "q", "f", "{referer}i", "{query_string}e", "{raw_uri}e", "{path_info}e")


def masked_url(value: str) -> str:
    """``value`` as logged: as it came unless a personal number is in it, decoded, as the query's
    "+" and "%20" can group a phone's digits; then decoded and masked. The application's masking,
    imported when a request is logged: in a worker, where the application is loaded."""
    from governance.logging import mask_text

    decoded = unquote_plus(value)
    masked = mask_text(decoded)
    return value if masked == decoded else masked


class ForwardedForLogger(Logger):
    def _trusted(self, peer: str) -> bool:
        allowed = self.cfg.forwarded_allow_ips
        if "*" in allowed:
            return True
        try:
            address = ipaddress.ip_address(peer)
        except ValueError:
            return False
        return any(address in network for network in self.cfg.forwarded_allow_networks())

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        forwarded = environ.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded and self._trusted(environ.get("REMOTE_ADDR", "")):
            with contextlib.suppress(ValueError):  # not an address: the peer stays
                atoms["h"] = str(ipaddress.ip_address(forwarded.split(",")[-1].strip()))
        for key in URL_ATOMS:
            if isinstance(atoms.get(key), str):
                atoms[key] = masked_url(atoms[key])
        return atoms
