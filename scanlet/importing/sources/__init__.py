"""The sources an import reads: each yields ``SourceItem``s in order (a code before its
visits), reading page by page or row by row so memory stays flat however big it is."""
