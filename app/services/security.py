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
    try:
        claims = jwt.decode(
            encoded,
            secret,
            algorithms=[TOKEN_ALGORITHM],
            options={"verify_exp": False, "verify_iat": False, "require": ["sub", "exp"]},
        )
        if int(claims["exp"]) <= now.timestamp():
            return None
        return int(claims["sub"])
    except (jwt.PyJWTError, ValueError, TypeError):
        return None
