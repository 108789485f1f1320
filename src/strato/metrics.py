"""Response counters shared by every worker process.

Each worker owns one row of an anonymous shared mapping made before the workers fork and
increments only its own row, so no locks are needed; a scrape of /_strato/metrics, answered
by whichever worker, sums every row.
"""

from __future__ import annotations

import mmap

SERVICES = ("s3", "lambda", "cloudfront", "logs", "other")
_LOWEST, _HIGHEST = 100, 599
_STATUSES = _HIGHEST - _LOWEST + 1
_ROW = len(SERVICES) * _STATUSES


class ResponseCounters:
    def __init__(self, workers: int = 1) -> None:
        self._workers = workers
        self._map = mmap.mmap(-1, workers * _ROW * 8)
        self._cells = memoryview(self._map).cast("q")
        self._row = 0

    def become_worker(self, index: int) -> None:
        """Called in a worker after fork: its counts go to row `index`."""
        self._row = index * _ROW

    def count(self, service: str, status: int) -> None:
        service_index = SERVICES.index(service) if service in SERVICES else len(SERVICES) - 1
        if _LOWEST <= status <= _HIGHEST:
            self._cells[self._row + service_index * _STATUSES + status - _LOWEST] += 1

    def totals(self) -> dict[tuple[str, int], int]:
        found: dict[tuple[str, int], int] = {}
        for worker in range(self._workers):
            base = worker * _ROW
            for service_index, service in enumerate(SERVICES):
                for offset in range(_STATUSES):
                    value = self._cells[base + service_index * _STATUSES + offset]
                    if value:
                        key = (service, _LOWEST + offset)
                        found[key] = found.get(key, 0) + value
        return found

    def prometheus(self) -> str:
        lines = ["# HELP strato_http_responses_total Responses sent, by service and status.",
                 "# TYPE strato_http_responses_total counter"]
        lines += [f'strato_http_responses_total{{service="{service}",status="{status}"}} {count}'
                  for (service, status), count in sorted(self.totals().items())]
        return "\n".join(lines) + "\n"
