"""gunicorn's logger for the web: the access log names the client the proxy forwards.

Behind the TLS proxy every request reaches gunicorn from the proxy's address, so gunicorn's access
log showed that one address for everyone. When the peer is in gunicorn's ``--forwarded-allow-ips``
(the proxy), the logged address is the last entry of X-Forwarded-For, the one the proxy appended
(earlier entries come from the client, unchecked): the same rule as ``governance.services.client_ip``
for the access log of personal data. Any other peer is logged as itself, whatever it sends.

Used with ``--logger-class governance.gunicorn_logging.ForwardedForLogger`` (Dockerfile, compose,
README). Imports nothing of Django: gunicorn's master process loads it."""

import contextlib
import ipaddress

from gunicorn.glogging import Logger


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
        return atoms
