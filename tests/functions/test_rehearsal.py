"""A spare's rehearsal of a launch (functions/rehearsal.py)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from strato.functions import rehearsal, runtime_client


def test_a_rehearsal_leaves_nothing_behind(tmp_path: Path) -> None:
    """What a spare runs while it waits (rehearsal.rehearse): the variables, the module
    it imported, its path entries, the context's cached names, the request id log records are
    stamped with and its directory are all gone afterwards."""
    directory = tmp_path / "rehearsal"
    directory.mkdir()
    variables, path = dict(os.environ), list(sys.path)
    rehearsal.rehearse(str(directory))
    assert not directory.exists()
    assert dict(os.environ) == variables
    assert sys.path == path
    assert rehearsal.REHEARSAL_MODULE not in sys.modules
    assert str(directory) not in sys.path_importer_cache
    assert runtime_client.function_names.cache_info().currsize == 0
    assert runtime_client.LambdaLoggerHandler.request_id == ""  # a record logged during init names no request
