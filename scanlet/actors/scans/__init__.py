"""Scans: recording who scanned what, with client addresses handled privately."""
