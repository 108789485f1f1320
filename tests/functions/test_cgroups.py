"""A cgroup's limits (functions/cgroups.py), on plain files standing in for its knobs: the
same writes the cgroup filesystem takes."""

from __future__ import annotations

from pathlib import Path

from strato.functions.cgroups import Group

V1_KNOBS = {"memory": ["memory.limit_in_bytes", "memory.memsw.limit_in_bytes", "memory.kmem.tcp.limit_in_bytes"],
            "cpu": ["cpu.cfs_period_us", "cpu.cfs_quota_us", "cpu.shares"], "pids": ["pids.max"]}


def group_of(tmp_path: Path) -> Group:
    dirs = {}
    for controller, knobs in V1_KNOBS.items():
        directory = tmp_path / controller
        directory.mkdir()
        for knob in knobs:
            (directory / knob).write_text("max\n")
        dirs[controller] = str(directory)
    return Group(1, dirs)


def knob(tmp_path: Path, controller: str, name: str) -> str:
    return (tmp_path / controller / name).read_text()


def test_limits_follow_the_memory_size(tmp_path: Path) -> None:
    group = group_of(tmp_path)
    group.limit(128)
    assert knob(tmp_path, "memory", "memory.limit_in_bytes") == str(128 * 1024 * 1024)
    assert knob(tmp_path, "memory", "memory.kmem.tcp.limit_in_bytes") == str(128 * 1024 * 1024)  # socket buffers
    assert knob(tmp_path, "cpu", "cpu.cfs_quota_us") == "100000"  # at least one whole CPU
    assert knob(tmp_path, "cpu", "cpu.shares") == str(128 * 1024 // 1769)
    group.limit(3538)
    assert knob(tmp_path, "memory", "memory.limit_in_bytes") == str(3538 * 1024 * 1024)
    assert knob(tmp_path, "cpu", "cpu.cfs_quota_us") == "200000"


def test_a_knob_already_holding_its_value_is_not_written_again(tmp_path: Path) -> None:
    """Spares get the default limits when they arrive; a launch of that size writes nothing on
    a cold start's path, and one of another size only the knobs that differ."""
    group = group_of(tmp_path)
    group.limit(128)
    for controller, knobs in V1_KNOBS.items():
        for name in knobs:
            (tmp_path / controller / name).write_text("untouched")
    group.limit(128)
    assert {knob(tmp_path, c, n) for c, names in V1_KNOBS.items() for n in names} == {"untouched"}
    group.limit(256)
    assert knob(tmp_path, "memory", "memory.limit_in_bytes") == str(256 * 1024 * 1024)
    assert knob(tmp_path, "cpu", "cpu.shares") == str(256 * 1024 // 1769)
    assert knob(tmp_path, "cpu", "cpu.cfs_period_us") == "untouched"
    assert knob(tmp_path, "pids", "pids.max") == "untouched"

