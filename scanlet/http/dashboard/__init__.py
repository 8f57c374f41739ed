"""The web dashboard: codes, QR images and scans in a browser, served by Scanlet itself."""
