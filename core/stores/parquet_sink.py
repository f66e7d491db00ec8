"""``AnalyticalSink`` as Parquet files on a ``BlobStore``, Hive-partitioned by date:
``<tenant>/analytics/<dataset>/date=YYYY-MM-DD/part-0000.parquet`` (readable by Synapse, Fabric, DuckDB, Spark)."""

from __future__ import annotations

import io
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from .ports import BlobStore


class ParquetBlobSink:
    def __init__(self, blobs: BlobStore, root: str = "analytics"):
        self._blobs, self._root = blobs, root

    def path(self, dataset: str, day: str) -> str:
        return f"{self._root}/{dataset}/date={day}/part-0000.parquet"

    def write(self, tenant_id: str, dataset: str, day: str, rows: list[dict[str, Any]]) -> str:
        table = pa.Table.from_pylist(rows) if rows else pa.table({})
        buffer = io.BytesIO()
        pq.write_table(table, buffer, compression="zstd")
        path = self.path(dataset, day)
        self._blobs.put_bytes(tenant_id, path, buffer.getvalue(), content_type="application/vnd.apache.parquet",
                              metadata={"rows": str(len(rows)), "dataset": dataset, "date": day})
        return path

    def read(self, tenant_id: str, dataset: str, day: str) -> list[dict[str, Any]]:
        data = self._blobs.get_bytes(tenant_id, self.path(dataset, day))
        return [] if data is None else pq.read_table(io.BytesIO(data)).to_pylist()
