"""Bringing codes and visits over from elsewhere: the import engine and its sources.

A source (a CSV file, Shlink, YOURLS, Kutt, a Scanlet archive) yields neutral items,
``SourceCode`` and ``SourceVisit``, in order (a code before its visits); ``Importer``
creates the codes through the codes context and hands the visits to the scans context in
batches, through an ``ImportSink``. Nothing here opens a database or knows an adapter: the
composition root (``scanlet.assembly.importing``) wires the sink.
"""

from scanlet.importing.engine import Conflict, Importer, ImportSink
from scanlet.importing.items import (
    SourceCode,
    SourceError,
    SourceFailure,
    SourceItem,
    SourceNote,
    SourceRead,
    SourceTotal,
    SourceVisit,
)
from scanlet.importing.pacing import Pacing
from scanlet.importing.report import ImportReport

__all__ = (
    "Conflict",
    "ImportReport",
    "ImportSink",
    "Importer",
    "Pacing",
    "SourceCode",
    "SourceError",
    "SourceFailure",
    "SourceItem",
    "SourceNote",
    "SourceRead",
    "SourceTotal",
    "SourceVisit",
)
