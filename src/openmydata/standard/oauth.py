"""Checks shared by every client_credentials token endpoint of the standard: 지원-001 (portal), 지원-101
(operators and providers) and the certification authority's token API (RFC 6749 §4.4.2)."""

from __future__ import annotations

from openmydata.kit.errors import OAuthError


def client_credentials_request(
    grant_type: str | None, client_id: str | None, client_secret: str | None
) -> tuple[str, str]:
    """The client's id and secret, or the RFC 6749 error for a malformed request."""
    if not grant_type:
        raise OAuthError("invalid_request", "grant_type is required")
    if grant_type != "client_credentials":
        raise OAuthError("unsupported_grant_type", "only client_credentials is supported")
    if not client_id or not client_secret:
        raise OAuthError("invalid_request", "client_id and client_secret are required")
    return client_id, client_secret
