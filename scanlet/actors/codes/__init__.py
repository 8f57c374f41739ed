"""Codes: the QR code resource, its validation rules and its rendered images."""
