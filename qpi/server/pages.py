"""The pages a browser sees: the dashboard at ``/`` and the API's Swagger UI at ``/docs``.

Both work offline: the dashboard's HTML, CSS and JavaScript ship in this package
(``qpi/server/dashboard/``), and Swagger UI's files come from the ``swagger-ui-py`` package
(Swagger UI 5, which reads the OpenAPI 3.1 that FastAPI writes), so no page loads anything
from a CDN. The dashboard talks to the same REST API as the
clients, with the user's session token.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles

__all__ = ["DASHBOARD_DIR", "install_pages"]

#: The dashboard's files, served under ``/dashboard/``.
DASHBOARD_DIR = Path(__file__).with_name("dashboard")
_SWAGGER_PREFIX = "/docs-assets"


def install_pages(app: FastAPI) -> None:
    """Serve the dashboard at ``/`` and Swagger UI at ``/docs``, both from local files.

    Args:
        app: The orchestrator's app, created with ``docs_url=None``.
    """
    app.mount("/dashboard", StaticFiles(directory=DASHBOARD_DIR), name="dashboard")

    @app.get("/", include_in_schema=False)
    def dashboard() -> FileResponse:
        """The dashboard's single page."""
        return FileResponse(DASHBOARD_DIR / "index.html", media_type="text/html")

    _install_swagger(app)


def _install_swagger(app: FastAPI) -> None:
    try:
        import swagger_ui

        swagger_ui_path: Path | None = Path(swagger_ui.__file__).with_name("static")
    except ImportError:  # a server installed without its extra's full set: say so on the page
        swagger_ui_path = None

    if swagger_ui_path is not None:
        app.mount(_SWAGGER_PREFIX, StaticFiles(directory=swagger_ui_path), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        """Swagger UI for this server's OpenAPI description, with no asset from the network."""
        if swagger_ui_path is None:
            return HTMLResponse(
                "<!doctype html><title>QPI API docs</title><p>Swagger UI is not installed: "
                "<code>pip install swagger-ui-py</code>. The API description is at "
                '<a href="/openapi.json">/openapi.json</a>.</p>'
            )
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} - API",
            swagger_js_url=f"{_SWAGGER_PREFIX}/swagger-ui-bundle.js",
            swagger_css_url=f"{_SWAGGER_PREFIX}/swagger-ui.css",
            swagger_favicon_url=f"{_SWAGGER_PREFIX}/favicon-32x32.png",
        )
