"""The edge's admin token: made once, kept private, and safe to pass as a command-line word."""

from __future__ import annotations

import stat
from pathlib import Path

from strato.edge.admin import admin_token
from tests.edge.conftest import StratoEdge
from tests.edge.origin import Origin
from tests.servers import raw_exchange

HEX_DIGITS = frozenset("0123456789abcdef")


class TestAdminToken:
    def test_a_new_token_is_made_of_hex_digits_so_it_never_starts_with_a_dash(self, tmp_path: Path) -> None:
        tokens = [admin_token(tmp_path / str(n)) for n in range(200)]
        assert all(set(token) <= HEX_DIGITS and len(token) == 64 for token in tokens)
        assert len(set(tokens)) == len(tokens)

    def test_the_token_is_kept_in_the_cache_directory_readable_by_its_owner_only(self, tmp_path: Path) -> None:
        token = admin_token(tmp_path / "cache")
        assert admin_token(tmp_path / "cache") == token
        kept = tmp_path / "cache" / "admin-token"
        assert kept.read_text() == token
        assert stat.S_IMODE(kept.stat().st_mode) == 0o600

    def test_a_token_already_kept_is_used_as_it_is(self, tmp_path: Path) -> None:
        (tmp_path / "admin-token").write_text("an-operator-chosen-token\n")
        assert admin_token(tmp_path) == "an-operator-chosen-token"

    def test_an_empty_token_file_gets_a_new_token_rather_than_letting_anyone_purge(
        self, origin: Origin, tmp_path: Path
    ) -> None:
        """A crash while the token was made (or power lost before it reached the disk) leaves the
        file empty: an empty token would admit `Authorization: Bearer ` from anyone."""
        (tmp_path / "cache").mkdir()
        (tmp_path / "cache" / "admin-token").write_text("")
        edge = StratoEdge(origin.url, tmp_path / "cache").start()
        try:
            assert purge_status(edge, "") == 403
            assert len(edge.token) == 64
            assert purge_status(edge, edge.token) == 200
        finally:
            edge.stop()


def purge_status(edge: StratoEdge, token: str) -> int:
    body = b'{"paths": ["/*"]}'
    return raw_exchange(edge.port, b"POST /_strato/purge HTTP/1.1\r\nHost: edge\r\nAuthorization: Bearer "
                        + token.encode() + b"\r\nContent-Length: %d\r\n\r\n" % len(body) + body).status
