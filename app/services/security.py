"""Password hashing (argon2id, memory-hard) and API bearer tokens (JWT, HS256, PyJWT)."""

from __future__ import annotations

import functools
from datetime import datetime, timedelta

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

TOKEN_ALGORITHM = "HS256"


@functools.cache
def hasher() -> PasswordHasher:
    # argon2id with the library's RFC 9106 "low memory" profile: 64 MiB, 3 passes.
    return PasswordHasher()


def hash_password(password: str) -> str:
    return hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


#: Verified against when the username is unknown, so both paths cost the same.
@functools.cache
def dummy_hash() -> str:
    return hash_password("không-có-tài-khoản-này")


def issue_token(user_id: int, role: str, secret: str, now: datetime, ttl_seconds: int) -> str:
    claims = {
        "sub": str(user_id),
        "role": role,
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(seconds=ttl_seconds)).timestamp()),
    }
    return jwt.encode(claims, secret, algorithm=TOKEN_ALGORITHM)


def read_token(encoded: str, secret: str, now: datetime) -> int | None:
    """The user id in a valid token unexpired at ``now``; None otherwise.

    Expiry is checked against the portal's clock, not the machine's, so that a
    server started at PORTAL_CLOCK_START (or a test's clock) agrees with itself.
    """
    verified = _verified_claims(encoded, secret)
    if verified is None:
        return None
    user_id, expires = verified
    return user_id if expires > now.timestamp() else None


@functools.lru_cache(maxsize=4096)
def _verified_claims(encoded: str, secret: str) -> tuple[int, int] | None:
    """(user id, expiry) of a token whose signature and claims hold, else None.

    Cached because the same bearer token is presented on every request of a session, and
    decoding and verifying it again was a tenth of an officer's queue request under load
    (bench/README.md, stop 14). What is cached never changes for a given token and secret;
    the expiry is compared with the clock at each use."""
    try:
        claims = jwt.decode(
            encoded,
            secret,
            algorithms=[TOKEN_ALGORITHM],
            options={"verify_exp": False, "verify_iat": False, "require": ["sub", "exp"]},
        )
        return int(claims["sub"]), int(claims["exp"])
    except (jwt.PyJWTError, ValueError, TypeError):
        return None
