"""Keep freed memory in the process while the engine runs (glibc only).

Each month the kernels make temporaries (per-chunk partial sums, the credit market's applicant
table) of up to tens of megabytes. With glibc's defaults a block above the mmap threshold is
mapped fresh from the kernel and returned when freed, so every month pays page faults to map and
zero it again; the heap top is also given back above M_TRIM_THRESHOLD. Raising both makes a
freed temporary's pages serve the next month's: 20-25% less time per step at 1:1 scale
(benchmarks/RESULTS.md). The cost is that the process keeps its peak heap until it exits, which
a simulation reaches anyway. Blocks above 32 MB (glibc's ceiling for the threshold) are still
mapped. Set SIM_MALLOC_TUNING=0 to leave the allocator alone.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import mmap
import os
import sys

import numpy as np

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
MMAP_THRESHOLD = 32 * 1024 * 1024  # glibc's largest (DEFAULT_MMAP_THRESHOLD_MAX on 64-bit)
TRIM_THRESHOLD = 2**31 - 1  # the largest value mallopt takes (an int): 2 GB of free heap top kept

_done = False
_libc = None


def keep_freed_memory() -> bool:
    """Tune glibc's malloc once per process; returns whether it was done."""
    global _done
    if _done:
        return True
    if not sys.platform.startswith("linux") or os.environ.get("SIM_MALLOC_TUNING", "1") == "0":
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (musl has no mallopt)
        return False
    global _libc
    _libc = libc
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    ok = mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1
    ok = mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1 and ok
    _done = ok
    return ok


def release_freed_memory() -> None:
    """Give the pages of freed heap blocks back to the kernel (glibc's malloc_trim), once the
    set-up's temporaries are freed (and at the first credit step after the rows grew): with the
    trim threshold raised they would otherwise stay resident beside arrays too large to reuse them
    (set-up: about 30 MB at 1:1). The month's own temporaries are kept (they are made again the
    next month: a yearly trim only made the month after it fault them in again, ~2,000 page faults,
    for no lower peak once the state arrays left the heap, benchmarks/RESULTS.md)."""
    if _done and _libc is not None:
        _libc.malloc_trim(0)


MADV_DONTNEED = 4  # Linux


def release_pages(arr) -> None:
    """Give the whole pages of an array's buffer back to the kernel (madvise MADV_DONTNEED) just
    before it is freed, when nothing but the caller's `arr` holds it (its pages would otherwise stay
    resident in the heap's free chunks until a trim): `SoA.grow`, whose new arrays are a little larger
    than the old ones and so rarely fit the holes these leave. Its contents read as zeros after."""
    if not _done or _libc is None:
        return
    base = arr.base if arr.base is not None else arr
    # references: the caller's `arr` and this frame's (and `base` its own, when arr is a view)
    if sys.getrefcount(arr) > 3 or (base is not arr and sys.getrefcount(base) > 3):
        return
    start, end = base.ctypes.data, base.ctypes.data + base.nbytes
    lo, hi = -(-start // PAGE) * PAGE, end // PAGE * PAGE
    if hi - lo >= 16 * PAGE:
        _libc.madvise(ctypes.c_void_p(lo), ctypes.c_size_t(hi - lo), MADV_DONTNEED)


PAGE = 4096
MAPPED_MIN = 1 << 18  # arrays at least this large get a mapping of their own (`mapped_zeros`)


def mapped_zeros(nbytes: int) -> np.ndarray | None:
    """nbytes zero bytes in a private anonymous mapping of their own (page-aligned), or None where
    there is none (not Linux, whose mremap `remapped` needs: the heap's `np.zeros` then; nor for
    arrays under MAPPED_MIN bytes).

    Its pages are mapped on first touch (as the heap's fresh pages are), and `remapped` extends it in
    place (mremap): a firm array grows by its new rows' pages alone, where a heap array is
    reallocated, faulted in and copied (the 1:1 decade: three growths of ~140 MB of state, ~75 ms
    each, nearly all of it page faults)."""
    if nbytes < MAPPED_MIN or not sys.platform.startswith("linux"):
        return None
    return np.frombuffer(mmap.mmap(-1, nbytes, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS), dtype=np.uint8)


def mapping(arr: np.ndarray) -> mmap.mmap | None:
    """The mapping an array from `mapped_zeros` views (None: a heap array)."""
    base = arr
    while isinstance(base, np.ndarray):
        base = base.base
    base = base.obj if isinstance(base, memoryview) else base  # numpy's frombuffer keeps a memoryview
    return base if isinstance(base, mmap.mmap) else None


def remapped(mm: mmap.mmap, nbytes: int) -> np.ndarray | None:
    """The mapping `mm` grown to nbytes in place (its bytes kept, the new ones zero; the kernel moves
    its pages if it must, nothing is copied), as bytes; None, and `mm` unchanged, while an array
    still views it (so its data may not move: the caller copies instead)."""
    try:
        mm.resize(nbytes)
    except BufferError:
        return None
    return np.frombuffer(mm, dtype=np.uint8)
