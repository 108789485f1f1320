"""Startup scan: remove what a crash can leave behind.

A crash can leave partial files in tmp/ (never visible) and complete blobs that were
renamed into place but never committed in metadata. Neither is reachable by any object;
both are removed before the server accepts requests.
"""

from __future__ import annotations

from dataclasses import dataclass

from strato.storage.blobs import BlobStore
from strato.storage.metadata import MetadataStore


@dataclass(frozen=True)
class RecoveryReport:
    temp_files: int
    orphan_blobs: int


def recover(meta: MetadataStore, blobs: BlobStore) -> RecoveryReport:
    temp_files = blobs.clear_tmp()
    referenced = meta.referenced_blobs()
    orphans = [blob for blob in blobs.stored_ids() if blob not in referenced]
    blobs.delete(orphans)
    return RecoveryReport(temp_files=temp_files, orphan_blobs=len(orphans))
