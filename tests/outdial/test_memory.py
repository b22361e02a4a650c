"""outdial/memory.py: heap handed back after heavy work, at most every MIN_INTERVAL_S."""

from __future__ import annotations

import platform
import subprocess
import sys

import pytest

from outdial import memory


def test_release_is_rate_limited() -> None:
    start = 1e9
    assert memory.release(start) is True
    assert memory.release(start + 1) is False  # a stream of failing imports: no stall
    assert memory.release(start + memory.MIN_INTERVAL_S + 1) is True


_PROBE = """
import ctypes, sys
from outdial import memory

class MallInfo2(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks",
        "fordblks", "keepcost")]

libc = ctypes.CDLL("libc.so.6")
libc.mallinfo2.restype = MallInfo2
if sys.argv[1] == "configure":
    assert memory.configure_malloc()
big = bytearray(4 << 20)  # a 4 MB upload buffer, freed: glibc's threshold rises to 4 MB
del big
before = libc.mallinfo2().hblks
buf = bytearray(1 << 20)  # the next 1 MB buffer: heap (kept) or mmap (given back on free)
print(libc.mallinfo2().hblks - before)
"""


@pytest.mark.skipif(
    not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc",
    reason="glibc's malloc only",
)
@pytest.mark.parametrize(("mode", "mmapped"), [("default", "0"), ("configure", "1")])
def test_big_buffers_stay_on_mmap_after_configure_malloc(mode: str, mmapped: str) -> None:
    """Issue 18: without the fixed threshold a burst of uploads moved every later big buffer
    onto the heap, where ~15 MB stayed resident after the abuse bench."""
    out = subprocess.run(
        [sys.executable, "-c", _PROBE, mode], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == mmapped
