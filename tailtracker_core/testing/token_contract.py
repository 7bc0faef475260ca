"""The TokenSigner contract, as a pytest base class.

Subclass it and provide the fixtures `signer` (the adapter under test) and `now` (the time the
signer's own clock reads, timezone-aware UTC). Adapter-specific attacks (algorithm confusion,
key ids) belong in the adapter's own tests; this is what every signer must do.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import uuid4

import pytest

from tailtracker_core.errors import AuthenticationFailed
from tailtracker_core.model.tiers import Tier
from tailtracker_core.ports import TokenSigner

__all__ = ["TokenSignerContract"]


class TokenSignerContract:
    def test_access_and_refresh_tokens_round_trip(self, signer: TokenSigner, now: datetime) -> None:
        user, session, token_id = uuid4(), uuid4(), uuid4()
        access = signer.decode_access(signer.issue_access(user, session, Tier.PRO, now))
        refresh = signer.decode_refresh(signer.issue_refresh(user, session, token_id, now))
        assert (access.user_id, access.session_id, access.tier) == (user, session, Tier.PRO)
        assert (refresh.user_id, refresh.session_id, refresh.token_id) == (user, session, token_id)
        assert abs(access.expires_at - (now + timedelta(seconds=signer.access_ttl_seconds))) < timedelta(
            seconds=1
        )
        assert abs(refresh.expires_at - (now + timedelta(seconds=signer.refresh_ttl_seconds))) < timedelta(
            seconds=1
        )

    def test_one_kind_of_token_is_never_taken_for_the_other(self, signer: TokenSigner, now: datetime) -> None:
        user, session = uuid4(), uuid4()
        with pytest.raises(AuthenticationFailed):
            signer.decode_access(signer.issue_refresh(user, session, uuid4(), now))
        with pytest.raises(AuthenticationFailed):
            signer.decode_refresh(signer.issue_access(user, session, Tier.FREE, now))

    def test_expired_tokens_are_refused(self, signer: TokenSigner, now: datetime) -> None:
        long_ago = now - timedelta(seconds=signer.refresh_ttl_seconds + 3600)
        with pytest.raises(AuthenticationFailed):
            signer.decode_access(signer.issue_access(uuid4(), uuid4(), Tier.FREE, long_ago))
        with pytest.raises(AuthenticationFailed):
            signer.decode_refresh(signer.issue_refresh(uuid4(), uuid4(), uuid4(), long_ago))

    def test_any_change_to_a_token_is_refused(self, signer: TokenSigner, now: datetime) -> None:
        token = signer.issue_access(uuid4(), uuid4(), Tier.FREE, now)
        for i in range(0, len(token), max(1, len(token) // 40)):
            flipped = token[:i] + ("A" if token[i] != "A" else "B") + token[i + 1 :]
            try:
                claims = signer.decode_access(flipped)
            except AuthenticationFailed:
                continue
            # Base64 may map two spellings of trailing bits to the same bytes: then nothing changed.
            assert claims == signer.decode_access(token)

    @pytest.mark.parametrize("garbage", ["", "x", "a.b.c", "e30.e30.e30", "\ud800", "x" * 20_000])
    def test_garbage_is_refused(self, signer: TokenSigner, garbage: str) -> None:
        with pytest.raises(AuthenticationFailed):
            signer.decode_access(garbage)
        with pytest.raises(AuthenticationFailed):
            signer.decode_refresh(garbage)
