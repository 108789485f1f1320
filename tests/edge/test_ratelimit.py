"""Token buckets, per-client rate limits and connection limits, with the time passed in."""

from __future__ import annotations

import math

import pytest

from strato.edge.ratelimit import ConnectionLimiter, RateLimiter, TokenBucket


class TestTokenBucket:
    def test_a_new_bucket_allows_a_burst(self) -> None:
        bucket = TokenBucket(rate=2.0, burst=4.0)
        assert [bucket.take(100.0) for _ in range(4)] == [0.0] * 4

    def test_past_the_burst_it_says_how_long_to_wait(self) -> None:
        bucket = TokenBucket(rate=2.0, burst=4.0)
        for _ in range(4):
            bucket.take(100.0)
        assert bucket.take(100.0) == 0.5  # one token at 2 per second

    def test_tokens_come_back_at_the_rate(self) -> None:
        bucket = TokenBucket(rate=2.0, burst=4.0)
        for _ in range(4):
            bucket.take(100.0)
        assert bucket.take(100.25) == 0.25
        assert bucket.take(100.5) == 0.0
        assert bucket.take(100.5) == 0.5

    def test_a_refused_take_costs_nothing(self) -> None:
        bucket = TokenBucket(rate=1.0, burst=1.0)
        assert bucket.take(0.0) == 0.0
        for _ in range(10):
            assert bucket.take(0.5) == 0.5
        assert bucket.take(1.0) == 0.0

    def test_the_bucket_never_holds_more_than_the_burst(self) -> None:
        bucket = TokenBucket(rate=10.0, burst=3.0)
        assert bucket.take(0.0) == 0.0
        assert bucket.tokens(1_000_000.0) == 3.0
        assert bucket.is_full(1_000_000.0)

    def test_a_request_may_cost_several_tokens(self) -> None:
        bucket = TokenBucket(rate=1.0, burst=10.0)
        assert bucket.take(0.0, cost=8.0) == 0.0
        assert bucket.take(0.0, cost=4.0) == 2.0
        assert bucket.take(2.0, cost=4.0) == 0.0

    def test_a_cost_above_the_burst_can_never_be_paid(self) -> None:
        assert TokenBucket(rate=1.0, burst=2.0).take(0.0, cost=3.0) == math.inf

    def test_a_clock_stepping_back_refills_nothing(self) -> None:
        bucket = TokenBucket(rate=1.0, burst=1.0)
        assert bucket.take(50.0) == 0.0
        assert bucket.take(10.0) == 1.0
        assert bucket.take(50.5) == 0.5
        assert bucket.take(51.0) == 0.0

    @pytest.mark.parametrize(("rate", "burst"), [(0.0, 1.0), (1.0, 0.0), (-1.0, 1.0), (math.inf, 1.0), (1.0, math.nan)])
    def test_rate_and_burst_must_be_positive(self, rate: float, burst: float) -> None:
        with pytest.raises(ValueError, match="positive"):
            TokenBucket(rate, burst)


class TestRateLimiter:
    def test_each_client_has_its_own_bucket(self) -> None:
        limiter = RateLimiter(rate=1.0, burst=2.0)
        assert [limiter.check("a", 0.0) for _ in range(3)] == [0.0, 0.0, 1.0]
        assert limiter.check("b", 0.0) == 0.0

    def test_a_limited_client_is_let_through_after_retry_after(self) -> None:
        limiter = RateLimiter(rate=4.0, burst=1.0)
        assert limiter.check("a", 10.0) == 0.0
        retry_after = limiter.check("a", 10.0)
        assert retry_after == 0.25
        assert limiter.check("a", 10.0 + retry_after) == 0.0

    def test_memory_is_bounded_by_max_clients(self) -> None:
        limiter = RateLimiter(rate=1.0, burst=1.0, max_clients=100)
        for i in range(1000):
            limiter.check(f"client-{i}", 0.0)
        assert len(limiter) == 100
        assert "client-999" in limiter
        assert "client-899" not in limiter

    def test_the_least_recently_seen_client_is_evicted(self) -> None:
        limiter = RateLimiter(rate=1.0, burst=1.0, max_clients=2)
        limiter.check("a", 0.0)
        limiter.check("b", 0.0)
        limiter.check("a", 0.0)  # a is seen again: b is now the oldest
        limiter.check("c", 0.0)
        assert "a" in limiter
        assert "b" not in limiter

    def test_an_evicted_client_comes_back_with_a_full_bucket(self) -> None:
        limiter = RateLimiter(rate=1.0, burst=1.0, max_clients=1)
        assert limiter.check("a", 0.0) == 0.0
        assert limiter.check("a", 0.0) == 1.0
        limiter.check("b", 0.0)
        assert limiter.check("a", 0.0) == 0.0

    def test_max_clients_must_be_positive(self) -> None:
        with pytest.raises(ValueError, match="max_clients"):
            RateLimiter(1.0, 1.0, max_clients=0)

    def test_bad_rates_are_refused_up_front(self) -> None:
        with pytest.raises(ValueError, match="positive"):
            RateLimiter(0.0, 1.0)


class TestConnectionLimiter:
    def test_a_client_may_hold_up_to_the_maximum(self) -> None:
        limiter = ConnectionLimiter(max_per_client=2)
        assert limiter.acquire("a")
        assert limiter.acquire("a")
        assert not limiter.acquire("a")
        assert limiter.acquire("b")

    def test_a_refused_acquire_takes_nothing(self) -> None:
        limiter = ConnectionLimiter(max_per_client=1)
        limiter.acquire("a")
        for _ in range(5):
            assert not limiter.acquire("a")
        assert limiter.count("a") == 1

    def test_a_release_frees_a_slot(self) -> None:
        limiter = ConnectionLimiter(max_per_client=1)
        assert limiter.acquire("a")
        limiter.release("a")
        assert limiter.acquire("a")

    def test_an_idle_client_leaves_no_entry(self) -> None:
        limiter = ConnectionLimiter(max_per_client=3)
        for _ in range(3):
            limiter.acquire("a")
        for _ in range(3):
            limiter.release("a")
        assert len(limiter) == 0
        assert limiter.count("a") == 0

    def test_releasing_more_than_acquired_never_goes_negative(self) -> None:
        limiter = ConnectionLimiter(max_per_client=1)
        limiter.release("a")
        limiter.acquire("a")
        limiter.release("a")
        limiter.release("a")
        assert (limiter.count("a"), len(limiter)) == (0, 0)
        assert limiter.acquire("a")
        assert not limiter.acquire("a")

    def test_many_clients_acquiring_and_releasing_leave_nothing(self) -> None:
        limiter = ConnectionLimiter(max_per_client=4)
        held = [c for i in range(1000) for c in [f"c{i % 37}"] if limiter.acquire(c)]
        assert len(held) == 37 * 4
        for client in held:
            limiter.release(client)
        assert len(limiter) == 0

    def test_the_maximum_must_be_positive(self) -> None:
        with pytest.raises(ValueError, match="max_per_client"):
            ConnectionLimiter(0)
