"""The interactive API documentation at /docs, served entirely by the hub.

FastAPI's default page loads Swagger UI from a CDN and starts it with an inline script:
neither works on a machine without internet, nor under the hub's `default-src 'self'`
policy. The Swagger UI files come from the `swagger-ui-bundle` package (a copy of the
upstream distribution on PyPI) and are served under /docs/static; the page starts it
with a script file of our own.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

__all__ = ["install"]

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>refhub API</title>
<link rel="stylesheet" href="/docs/static/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/static/swagger-ui-bundle.js"></script>
<script src="/docs/start.js"></script>
</body>
</html>
"""
_START = """window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout"
  });
});
"""


def docs_page() -> HTMLResponse:
    return HTMLResponse(_PAGE)


def start_script() -> Response:
    return Response(_START, media_type="text/javascript")


def install(app: FastAPI) -> None:
    """/docs (Swagger UI) from local files; the app must be built with `docs_url=None`."""
    app.mount("/docs/static", StaticFiles(directory=swagger_ui_path), name="apidocs-static")
    app.add_api_route("/docs", docs_page, methods=["GET"], include_in_schema=False)
    app.add_api_route("/docs/start.js", start_script, methods=["GET"], include_in_schema=False)
