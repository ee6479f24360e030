"""Output memory of bnorm.torch: y and dx of 1 MiB and more come from a cache of numpy arrays,
each handed out again once nothing refers to it any more (no tensor, view or array on it).
Memory fresh from the system costs a page fault per page on first write, which made a third of a
large layer's training step on the project's machines; torch 1.13's CPU allocator caches
nothing, and glibc returns freed blocks of this size to the system. Arrays of 2 MiB and more are
mappings of their own, 2 MiB-aligned and advised to use transparent huge pages, so that the
memory the cache keeps is backed by huge pages (a block malloc carves from memory already
touched is not). See docs/python.md (Speed)."""

import mmap
import sys
import threading

import numpy as np

_MIN_BYTES = 1 << 20  # below this, malloc's own free lists reuse memory without faults
_HUGE_PAGE = 2 << 20
_MADV_HUGEPAGE = getattr(mmap, "MADV_HUGEPAGE", None)
_limit = 1 << 30
_cached = {}  # (shape, strides, dtype) -> [array]
_cached_bytes = 0
# Between finding a free array and its caller holding it, another thread must not take it too.
_lock = threading.RLock()


def set_output_cache_limit(nbytes):
    """Caps the memory kept for reuse at nbytes (0 turns the cache off and drops what is free);
    returns the previous cap. Arrays in use are never dropped, only not cached once returned."""
    global _limit
    if int(nbytes) < 0:
        raise ValueError(f"[bnorm.torch] expected a cache limit >= 0 bytes, got {nbytes}")
    with _lock:
        previous, _limit = _limit, int(nbytes)
        _drop_free(_cached_bytes - _limit)
    return previous


def output_cache_bytes():
    """Bytes of the arrays the cache holds, in use or free."""
    return _cached_bytes


def _is_free(arrays, i):
    # References to a free array: the cache's list, this function's argument to getrefcount and
    # getrefcount's own. Callers index the list rather than holding the array in a variable.
    return sys.getrefcount(arrays[i]) <= 2


def _drop_free(nbytes):
    """Drops free arrays until nbytes are released (or none is left to drop)."""
    global _cached_bytes
    for key in list(_cached):
        arrays = _cached[key]
        i = 0
        while i < len(arrays) and nbytes > 0:
            if _is_free(arrays, i):
                _cached_bytes -= arrays[i].nbytes
                nbytes -= arrays[i].nbytes
                del arrays[i]
            else:
                i += 1
        if not arrays:
            del _cached[key]


def empty_like(a):
    """An uninitialized array with a's shape, dtype and strides (a dense, in any axis order)."""
    if a.nbytes < _MIN_BYTES:
        return np.empty_like(a)
    with _lock:  # the returned reference is held before the lock is released
        return _cached_empty_like(a)


def _cached_empty_like(a):
    global _cached_bytes
    key = (a.shape, a.strides, a.dtype)
    arrays = _cached.get(key)
    if arrays is not None:
        for i in range(len(arrays)):
            if _is_free(arrays, i):
                return arrays[i]
    if not _dense(a):  # strides another call would not ask for again
        return np.empty_like(a)
    out = _new_array(a)
    if _cached_bytes + out.nbytes > _limit:
        _drop_free(_cached_bytes + out.nbytes - _limit)
        if _cached_bytes + out.nbytes > _limit:
            return out
    _cached.setdefault(key, []).append(out)
    _cached_bytes += out.nbytes
    return out


def _dense(a):
    """Whether a's elements fill its memory without gaps or overlaps, in some axis order."""
    expected = a.itemsize
    for stride, size in sorted((st, n) for st, n in zip(a.strides, a.shape) if n != 1):
        if stride != expected:
            return False
        expected *= size
    return True


def _new_array(a):
    """A new array with dense a's shape, dtype and strides; from 2 MiB on, in a private anonymous
    mapping of its own starting at a huge-page boundary, advised to use huge pages."""
    if a.nbytes < _HUGE_PAGE or _MADV_HUGEPAGE is None:
        return np.empty_like(a)  # order "K": a's strides, a being dense
    region = mmap.mmap(-1, a.nbytes + _HUGE_PAGE, flags=mmap.MAP_PRIVATE)
    region.madvise(_MADV_HUGEPAGE)
    offset = -np.frombuffer(region, np.uint8, count=1).ctypes.data % _HUGE_PAGE
    return np.ndarray(a.shape, a.dtype, buffer=region, offset=offset, strides=a.strides)
