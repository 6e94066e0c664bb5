"""Password hashing (argon2id, memory-hard) and API bearer tokens (JWT, HS256)."""

from __future__ import annotations

import functools
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from litestar.exceptions import NotAuthorizedException
from litestar.security.jwt import Token

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
    token = Token(exp=now + timedelta(seconds=ttl_seconds), sub=str(user_id), iat=now,
                  extras={"role": role})
    return token.encode(secret=secret, algorithm=TOKEN_ALGORITHM)


def read_token(encoded: str, secret: str) -> int | None:
    """The user id in a valid, unexpired token; None otherwise."""
    try:
        token = Token.decode(encoded, secret=secret, algorithm=TOKEN_ALGORITHM)
    except NotAuthorizedException:
        return None
    try:
        return int(token.sub)
    except ValueError:
        return None
