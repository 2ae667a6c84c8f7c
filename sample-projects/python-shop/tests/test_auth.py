from __future__ import annotations

import pytest

from shop.auth import Accounts, AuthError

SECRET = b"test-secret-0123456789"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def accounts(clock: FakeClock) -> Accounts:
    accounts = Accounts(SECRET, session_ttl_s=600, clock=clock)
    accounts.register("ada", "correct horse")
    return accounts


def test_login_issues_a_token_that_verifies(accounts: Accounts) -> None:
    token = accounts.login("ada", "correct horse")
    assert accounts.verify(token) == "ada"


def test_bad_credentials_are_refused(accounts: Accounts) -> None:
    with pytest.raises(AuthError):
        accounts.login("ada", "wrong horse")
    with pytest.raises(AuthError):
        accounts.login("bob", "correct horse")


def test_tampered_and_expired_tokens_are_refused(accounts: Accounts, clock: FakeClock) -> None:
    token = accounts.login("ada", "correct horse")
    username, expires, signature = token.split(".")
    with pytest.raises(AuthError, match="invalid"):
        accounts.verify(f"{username}.{int(expires) + 3600}.{signature}")
    clock.now += 601
    with pytest.raises(AuthError, match="expired"):
        accounts.verify(token)


def test_registration_rules(accounts: Accounts) -> None:
    with pytest.raises(AuthError, match="taken"):
        accounts.register("ada", "another password")
    with pytest.raises(AuthError, match="usernames"):
        accounts.register("Ada Lovelace", "long enough")
    with pytest.raises(AuthError, match="at least"):
        accounts.register("bob", "short")
