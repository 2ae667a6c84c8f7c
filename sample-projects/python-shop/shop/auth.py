"""Customer accounts and signed session tokens.

A token is `username.expires.signature`: the server keeps no session table, it re-computes the
HMAC of the first two fields with its secret and trusts the token when they agree.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

USERNAME = re.compile(r"^[a-z0-9_]{3,32}$")
MIN_PASSWORD_LENGTH = 8


class AuthError(Exception):
    """Login or token check failed; the message is safe to show to the customer."""


@dataclass(frozen=True)
class Account:
    username: str
    password_hash: str


def hash_password(password: str) -> str:
    return hashlib.sha256(password.encode()).hexdigest()


class Accounts:
    def __init__(
        self,
        secret: bytes,
        session_ttl_s: int = 3600,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if len(secret) < 16:
            raise ValueError("the session secret must be at least 16 bytes")
        self._secret = secret
        self._ttl = session_ttl_s
        self._clock = clock
        self._accounts: dict[str, Account] = {}

    def register(self, username: str, password: str) -> Account:
        if not USERNAME.match(username):
            raise AuthError("usernames are 3-32 characters: a-z, 0-9 and _")
        if len(password) < MIN_PASSWORD_LENGTH:
            raise AuthError(f"passwords need at least {MIN_PASSWORD_LENGTH} characters")
        if username in self._accounts:
            raise AuthError(f"{username} is taken")
        account = Account(username, hash_password(password))
        self._accounts[username] = account
        return account

    def login(self, username: str, password: str) -> str:
        """Check the password and hand out a session token."""
        account = self._accounts.get(username)
        if account is None:
            raise AuthError("unknown user")
        if account.password_hash != hash_password(password):
            raise AuthError("wrong password")
        return self.issue_token(username)

    def issue_token(self, username: str) -> str:
        expires = int(self._clock()) + self._ttl
        payload = f"{username}.{expires}"
        return f"{payload}.{self._sign(payload)}"

    def verify(self, token: str) -> str:
        """The username a valid, unexpired token was issued to."""
        try:
            username, expires, signature = token.split(".")
        except ValueError:
            raise AuthError("malformed session token") from None
        if signature != self._sign(f"{username}.{expires}"):
            raise AuthError("invalid session token")
        if int(expires) < self._clock():
            raise AuthError("session expired")
        return username

    def _sign(self, payload: str) -> str:
        return hmac.new(self._secret, payload.encode(), hashlib.sha256).hexdigest()
