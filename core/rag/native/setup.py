"""Builds the embedded model's engine (``e5.c``) into the ``e5engine`` package.

One source, two builds, both in the package: ``avx2`` (AVX2, FMA and F16C; its matmul moves to AVX-512 VNNI at run
time where the CPU has it) and ``baseline`` (no instruction beyond what the platform's ABI guarantees). The package
picks one for the CPU it runs on (``e5engine.library_path``), so no build depends on the CPU of the machine that
compiled it. Away from x86-64 only the baseline build is made.

The OpenMP runtime the engine links to (``libgomp``) is copied beside it and found through the ``$ORIGIN`` run
path: the Azure Functions runtime image does not have one. ``ENGINE_ID`` (written to ``e5engine/_build_info.py``)
is a digest of the source and of this file, which holds the flags: the same on every machine that builds it.
"""

from __future__ import annotations

import hashlib
import os
import platform
import shutil
import subprocess
import tempfile
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = Path(__file__).resolve().parent
SOURCES = ("e5.c", "e5.h", "setup.py")  # what ENGINE_ID covers
COMMON_FLAGS = ["-O3"]
AVX2_FLAGS = ["-mavx2", "-mfma", "-mf16c"]
OPENMP = "libgomp.so.1"


def engine_id() -> str:
    digest = hashlib.sha256()
    for name in SOURCES:
        digest.update((HERE / name).read_bytes())
    return f"e5engine-{digest.hexdigest()[:16]}"


def _is_x86_64() -> bool:
    return platform.machine().lower() in ("x86_64", "amd64")


def _accepts(cc: str, flags: list[str]) -> bool:
    """Whether ``cc`` compiles and links a trivial program with ``flags``."""
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "t.c"
        source.write_text("int main(void) { return 0; }\n")
        done = subprocess.run([cc, *flags, str(source), "-o", str(Path(tmp) / "t")], capture_output=True)
        return done.returncode == 0


class BuildEngine(build_ext):
    def build_extensions(self) -> None:
        cc = os.environ.get("CC") or self.compiler.compiler_so[0]
        openmp = ["-fopenmp"] if _accepts(cc, ["-fopenmp"]) else []  # without it the engine runs on one thread
        for ext in self.extensions:
            ext.extra_compile_args = [*COMMON_FLAGS, *openmp, *ext.extra_compile_args]
            ext.extra_link_args = [*openmp, "-lm", "-Wl,-rpath,$ORIGIN"]
        super().build_extensions()
        package_dir = Path(self.get_ext_fullpath(self.extensions[0].name)).parent
        if openmp:
            runtime = subprocess.run([cc, f"-print-file-name={OPENMP}"], capture_output=True, text=True).stdout
            if os.path.isabs(runtime.strip()):
                shutil.copy2(os.path.realpath(runtime.strip()), package_dir / OPENMP)
        (package_dir / "_build_info.py").write_text(
            '"""Written by setup.py when the engine is built."""\n\n'
            f"ENGINE_ID = {engine_id()!r}\n")


def _engine(variant: str, flags: list[str]) -> Extension:
    # A shared library loaded with ctypes (no Python module inside), built the way a C extension is.
    return Extension(f"e5engine._e5_{variant}", sources=["e5.c"], depends=["e5.h"], extra_compile_args=flags)


engines = [_engine("baseline", [])]
if _is_x86_64():
    engines.insert(0, _engine("avx2", AVX2_FLAGS))

setup(ext_modules=engines, cmdclass={"build_ext": BuildEngine})
