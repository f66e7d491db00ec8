"""Knowledge CLI: ``python -m core.rag search|reindex|export-vectors|upload``.

- ``search <tenant> <query> [-k 3] [--lang fr-CA]`` prints the ranked hits as JSON lines;
- ``reindex <tenant> [--rebuild]`` syncs the tenant's index with its KB (``--rebuild`` drops it first, e.g. after
  changing EMBEDDER);
- ``export-vectors <tenant> <folder>`` writes ``<folder>/.vectors/<model>.npz`` so a later import of that folder
  reuses the vectors;
- ``upload <tenant> <file> [--name path] [--delete]`` puts a document in the knowledge blob container and enqueues
  the Event Grid event locally (what Event Grid does in Azure), for the queue-triggered function to index.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from core.config import load_local_settings


def main(argv: list[str] | None = None) -> int:
    load_local_settings()
    parser = argparse.ArgumentParser(prog="python -m core.rag", description="Knowledge base tools.")
    sub = parser.add_subparsers(dest="command", required=True)
    search = sub.add_parser("search", help="search a tenant's knowledge base")
    search.add_argument("tenant_id")
    search.add_argument("query")
    search.add_argument("-k", type=int, default=3)
    search.add_argument("--lang", default=None)
    reindex = sub.add_parser("reindex", help="sync a tenant's index with its KB documents")
    reindex.add_argument("tenant_id")
    reindex.add_argument("--rebuild", action="store_true", help="drop the index first (after a model change)")
    export = sub.add_parser("export-vectors", help="write prebuilt passage vectors into a tenant folder")
    export.add_argument("tenant_id")
    export.add_argument("folder", type=Path)
    upload = sub.add_parser("upload", help="upload a KB file to Blob Storage and enqueue its blob event")
    upload.add_argument("tenant_id")
    upload.add_argument("file", type=Path)
    upload.add_argument("--name", default=None, help="path below the tenant prefix (default: the file name)")
    upload.add_argument("--delete", action="store_true", help="delete the blob instead (BlobDeleted event)")
    args = parser.parse_args(argv)

    from core.services import get_services

    services = get_services()
    knowledge = services.knowledge
    if args.command == "search":
        for hit in knowledge.search(args.tenant_id, args.query, k=args.k, lang=args.lang):
            print(hit.model_dump_json())
    elif args.command == "reindex":
        if args.rebuild:
            knowledge.index.drop(args.tenant_id)
        print(knowledge.sync(args.tenant_id).model_dump_json())
    elif args.command == "export-vectors":
        from .ingest import export_seed_vectors

        path = export_seed_vectors(args.folder, knowledge.kb_documents(args.tenant_id), knowledge.embedder)
        print(path)
    else:
        from .blob_store import KnowledgeBlobs

        blobs = KnowledgeBlobs.from_settings(services.settings)
        name = f"{args.tenant_id}/{args.name or args.file.name}"
        if args.delete:
            blobs.delete(name)
        else:
            blobs.upload(name, args.file.read_bytes())
        event = blobs.notify("deleted" if args.delete else "created", name)
        print(json.dumps({"blob": name, "event": event["eventType"]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
