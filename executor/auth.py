"""Bearer-secret checks (spec section 2, Auth)."""
from __future__ import annotations

import hmac


def bearer_matches(authorization: str | None, secret: str) -> bool:
    """Whether ``authorization`` is ``Bearer <secret>``. An empty secret never matches."""
    if not secret or not authorization:
        return False
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(token.strip().encode(), secret.encode())
