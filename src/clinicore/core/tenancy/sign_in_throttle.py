"""Sign-in throttling: one rule for every password sign-in (the console, the provider and pharmacy desks).

- **The account** is the address as sign-in looks it up (``normalise_email``: case, ``。`` and the other
  full stops, full-width domain letters), so every spelling that reaches one account shares its counts.
  An address that does not normalise reaches no account and is counted under its bounded lower-case form.
- **Counted before the password is checked**, in one atomic step of the limiter (the count and the
  decision together: the memory storage under a lock, Redis in one script): of 40 parallel guesses at most
  ``attempts`` reach the password check, the rest are refused (429) without it.
- **Back-off per (account, client address)**: ``attempts`` per ``window_seconds`` (moving window). It is
  not a lock-out of the account: its owner on another address signs in as usual, and the same address has
  room again as its attempts age. A success clears that pair's count.
- **Ceiling per account**, over all addresses: ``account_attempts_per_minute`` a minute. It slows a
  guesser spread over many addresses to that rate and never locks for longer than a minute.
- **Per client address**, over all accounts: ``attempts * 10`` failures per window (one office shares an
  address; an attacker rotates emails). It counts failures only, so an office's sign-ins never throttle it,
  and is checked before the password (concurrent guesses may pass it by their number; the per-account
  limits above still bound every account's guesses).

The counts live in the runtime's ``RateLimiter``: in Redis when ``CLINICORE_REDIS_URL`` is set (shared
by every process), else in the process's memory.
"""

from __future__ import annotations

from dataclasses import dataclass

from clinicore.kit import contact
from clinicore.kit.contact import email_key
from clinicore.kit.errors import InvalidInput, RateLimited
from clinicore.kit.rate_limit import RateLimitDecision, RateLimiter

ATTEMPTS_PER_ADDRESS_FACTOR = 10
DEFAULT_ACCOUNT_ATTEMPTS_PER_MINUTE = 10
MAX_ACCOUNT_KEY = 320
MAX_CLIENT_ADDRESS = 100
TOO_MANY = "Too many sign-in attempts. Try again in {minutes} minute(s)."


def account_key(raw_email: str) -> str:
    """The account a typed address reaches (the sign-in lookup's key), else its bounded lower-case form."""
    try:
        return email_key(contact.normalise_email(raw_email))
    except InvalidInput:
        return raw_email.strip().lower()[:MAX_ACCOUNT_KEY]


@dataclass(frozen=True, slots=True)
class SignInThrottle:
    """The limits of one kind of sign-in (see the module docstring); ``realm`` keeps the console's,
    each desk's and the partner console's counts apart."""

    limiter: RateLimiter
    attempts: int
    window_seconds: int
    account_attempts_per_minute: int = DEFAULT_ACCOUNT_ATTEMPTS_PER_MINUTE

    def _pair_rule(self) -> str:
        return f"{self.attempts}/{self.window_seconds} seconds"

    def _account_rule(self) -> str:
        return f"{self.account_attempts_per_minute}/minute"

    def _address_rule(self) -> str:
        return f"{self.attempts * ATTEMPTS_PER_ADDRESS_FACTOR}/{self.window_seconds} seconds"

    async def admit(self, *, realm: str, account: str, client_address: str) -> None:
        """Count one attempt on ``account`` (``account_key``) from ``client_address``, or refuse it with
        ``RateLimited`` before any password is looked at."""
        address = client_address[:MAX_CLIENT_ADDRESS]
        address_decision = await self.limiter.peek(self._address_rule(), f"{realm}-login-ip", address)
        _refuse_unless_allowed(address_decision)
        pair = await self.limiter.hit(self._pair_rule(), f"{realm}-login-pair", account, address)
        _refuse_unless_allowed(pair)
        ceiling = await self.limiter.hit(self._account_rule(), f"{realm}-login-account", account)
        _refuse_unless_allowed(ceiling)

    async def failed(self, *, realm: str, client_address: str) -> None:
        """A wrong email or password: counted against the client address."""
        address = client_address[:MAX_CLIENT_ADDRESS]
        await self.limiter.hit(self._address_rule(), f"{realm}-login-ip", address)

    async def succeeded(self, *, realm: str, account: str, client_address: str) -> None:
        """The right password: the pair's back-off starts over."""
        await self.limiter.clear(
            self._pair_rule(), f"{realm}-login-pair", account, client_address[:MAX_CLIENT_ADDRESS]
        )


def _refuse_unless_allowed(decision: RateLimitDecision) -> None:
    if not decision.allowed:
        minutes = max(1, -(-decision.reset_after // 60))
        raise RateLimited(TOO_MANY.format(minutes=minutes), retry_after=max(1, decision.reset_after))
