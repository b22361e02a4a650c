"""Where verdict webhooks may go, and with which secret (issue 18, findings 1 and 2).

A webhook target is https, on a public address, unless the operator allows plain http or
non-public addresses in configuration (``webhook_allow_http``, ``webhook_allow_private``).
The address is checked when the request is sent, after resolving the name: the session's
resolver refuses a non-public answer, so a name that resolved to a public address when it
was checked cannot be re-pointed at loopback for the connection (DNS rebinding).

Secrets are values outdial generates per campaign (shown once, rotatable) or that an
operator sets in a TOML file (``webhook_secrets_file``), never a name a manager picks.
"""

from __future__ import annotations

import ipaddress
import secrets
import socket
import tomllib
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import ThreadedResolver

from campaigns.errors import CampaignInvalid
from outdial.errors import ConfigError

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class TargetPolicy:
    """What the operator allows; the default is https to public addresses only."""

    allow_http: bool = False
    allow_private: bool = False


class TargetRefused(OSError):
    """Raised by the guarded resolver; the sender records only its short reason."""


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def is_public(ip: Address) -> bool:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return is_public(ip.ipv4_mapped)
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_unspecified)


def address_allowed(host: str, policy: TargetPolicy) -> bool:
    try:
        ip = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    return policy.allow_private or is_public(ip)


def check_url(url: str, policy: TargetPolicy) -> str:
    """The URL's problem as a short reason, or "" when it may be used (before resolving)."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        return "the URL does not parse"
    schemes = ("https", "http") if policy.allow_http else ("https",)
    if parts.scheme not in schemes:
        return "webhook targets must use https" if not policy.allow_http else "not an http(s) URL"
    host = parts.hostname or ""
    if not host:
        return "the URL has no host"
    if parts.username or parts.password:
        return "the URL must not carry credentials"
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        if host.lower() == "localhost" or host.lower().endswith(".localhost"):
            return "" if policy.allow_private else "the target is not a public address"
        return ""
    return "" if address_allowed(host, policy) else "the target is not a public address"


def require_url(url: str, policy: TargetPolicy) -> None:
    """For a campaign definition: refuse a target that could never be sent to."""
    if url:
        reason = check_url(url, policy)
        if reason:
            raise CampaignInvalid(f"webhook_url: {reason}", field="webhook_url")


class GuardedResolver(AbstractResolver):
    """Resolves with the system resolver and refuses any answer the policy does not allow."""

    def __init__(self, policy: TargetPolicy, inner: AbstractResolver | None = None) -> None:
        self.policy = policy
        self.inner = inner or ThreadedResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        found = await self.inner.resolve(host, port, family)
        if not found or not all(address_allowed(r["host"], self.policy) for r in found):
            raise TargetRefused("the target is not a public address")
        return found

    async def close(self) -> None:
        await self.inner.close()


def client_session(policy: TargetPolicy) -> aiohttp.ClientSession:
    """A session whose connections can only reach addresses the policy allows."""
    connector = aiohttp.TCPConnector(resolver=GuardedResolver(policy), limit=20)
    return aiohttp.ClientSession(connector=connector, auto_decompress=False)


def operator_secrets(path: Path | None) -> dict[str, str]:
    """The operator's secrets file, read at send time so a change needs no restart."""
    if path is None:
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"webhook secrets file is unreadable: {type(exc).__name__}") from exc
    return {str(k): str(v) for k, v in data.items() if isinstance(v, str) and v}
