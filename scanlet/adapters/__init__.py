"""Adapters to outside libraries: QR images (segno), webhook HTTP (httpx), user agents
(ua-parser, crawlerdetect) and countries (maxminddb).

Each implements a port its context declares (or, for QR images, is a renderer the HTTP
layer calls), so a context never imports a library it could be handed instead. The
composition root (``scanlet.assembly``) wires them in.
"""
