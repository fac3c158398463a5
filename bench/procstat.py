"""CPU time and memory of process trees, read from Linux ``/proc``."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from tests.support.app_process import descendants

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


def tree(root: int) -> list[int]:
    """``root`` and every live descendant."""
    return [root, *descendants(root)]


def command_line(pid: int) -> str:
    """The process's command line ('' if it is gone)."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return ""
    return raw.replace(b"\0", b" ").decode(errors="replace").strip()


def _stat_fields(pid: int) -> list[str] | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # Fields after the parenthesised command name (which may hold spaces); index 0 is field 3.
    return stat[stat.rfind(")") + 2 :].split()


def cpu_seconds(pid: int) -> float:
    """User plus system CPU seconds of one process (all its threads); 0 if it is gone."""
    fields = _stat_fields(pid)
    if fields is None:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


@dataclass(frozen=True)
class CpuSnapshot:
    """CPU seconds of a set of processes at one moment."""

    per_pid: dict[int, float]

    @staticmethod
    def take(pids: list[int]) -> CpuSnapshot:
        """Read the CPU time of ``pids`` now."""
        return CpuSnapshot({pid: cpu_seconds(pid) for pid in pids})

    def since(self, earlier: CpuSnapshot) -> float:
        """CPU seconds used between ``earlier`` and this snapshot (new processes count whole)."""
        return sum(
            max(0.0, now - earlier.per_pid.get(pid, 0.0)) for pid, now in self.per_pid.items()
        )


def rss_bytes(pid: int) -> int:
    """Resident set size of one process (0 if it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/statm").read_text().split()
    except OSError:
        return 0
    return int(fields[1]) * PAGE_SIZE


def pss_bytes(pid: int) -> int:
    """Proportional set size (shared pages divided among their users); RSS if unreadable."""
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return rss_bytes(pid)
    for line in text.splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1]) * 1024
    return rss_bytes(pid)


@dataclass(frozen=True)
class Memory:
    """Memory of a process tree: PSS (each page counted once in total) and summed RSS."""

    pss: int
    rss: int
    processes: int

    @staticmethod
    def of(pids: list[int]) -> Memory:
        """Read the memory of ``pids`` now."""
        return Memory(
            pss=sum(pss_bytes(p) for p in pids),
            rss=sum(rss_bytes(p) for p in pids),
            processes=len(pids),
        )


def _comm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text(errors="replace").strip()
    except OSError:
        return ""


def chromium_pids() -> list[int]:
    """The Chromium processes this process started (through Playwright's driver)."""
    return [pid for pid in descendants(os.getpid()) if "chrom" in _comm(pid).lower()]


def chromium_kind(pid: int) -> str:
    """``browser``, ``renderer``, ``gpu-process``, ``utility``, ``zygote``... of a Chromium pid."""
    for part in command_line(pid).split():
        if part.startswith("--type="):
            return part.removeprefix("--type=")
    return "browser"


def cpu_by_kind(before: CpuSnapshot, after: CpuSnapshot) -> dict[str, float]:
    """CPU seconds between two snapshots of Chromium processes, by process type."""
    kinds: dict[str, float] = {}
    for pid, now in after.per_pid.items():
        kind = chromium_kind(pid)
        kinds[kind] = kinds.get(kind, 0.0) + max(0.0, now - before.per_pid.get(pid, 0.0))
    return {k: round(v, 3) for k, v in sorted(kinds.items())}
