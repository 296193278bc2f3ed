"""The FastAPI application: routers, error rendering, request context, the outbox relay.

`create_app()` is the composition root for HTTP. The relay runs in the serving process: it
executes outbox work itself in embedded mode, and hands it to Celery when a broker is set.
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from consent import fhir_router as consent_fhir_router
from consent import page as consent_page
from consent import router as consent_router
from directory import api as directory_api
from gateway import consent_wiring, directory_wiring
from gateway.auth import router as auth_router
from gateway.auth.admin import erasure as erasure_router
from gateway.auth.admin import router as admin_router
from gateway.auth.clients import admin_router as clients_admin_router
from gateway.auth.clients import router as clients_router
from gateway.auth.clients.scopes import scope_allows
from gateway.auth.dependencies import current_caller
from gateway.convert import router as convert_router
from gateway.delivery import admin_router as delivery_admin_router
from gateway.delivery import inbox_router as delivery_inbox_router
from gateway.delivery import router as delivery_router
from gateway.delivery import subscriptions_router as delivery_subscriptions_router
from gateway.delivery.relay import Dispatcher, InProcessDispatcher, Relay, RelayThread
from gateway.delivery.worker import CeleryDispatcher
from gateway.dependencies import get_session
from gateway.documents import router as documents_router
from gateway.errors import install_error_handlers
from gateway.fhir import router as fhir_router
from gateway.fhir.formats import FhirFormatMiddleware
from gateway.health import router as health_router
from gateway.health import service as health_service
from gateway.http import apidocs, openapi
from gateway.http.headers import AllowedHostsMiddleware, SecurityHeadersMiddleware
from gateway.http.limits import BodyLimitMiddleware
from gateway.observability.logging import configure_logging
from gateway.observability.metrics import HubMetrics
from gateway.observability.middleware import RequestContextMiddleware
from gateway.runtime import Runtime
from gateway.task_modules import load_task_modules
from gateway.web import router as web_router
from gateway.web import shell as web_shell
from gateway.web.admin import router as web_admin
from gateway.web.casework import router as web_casework
from gateway.web.clients import router as web_clients
from gateway.web.compose import router as web_compose
from gateway.web.directory import router as web_directory
from gateway.web.home import router as web_home
from gateway.web.hub import router as web_hub
from gateway.web.listings import router as web_listings
from gateway.web.referrals import router as web_referrals
from gateway.web.supervision import router as web_supervision
from gateway.workflow import cases_router as workflow_cases_router
from gateway.workflow import fhir_router as workflow_fhir_router
from gateway.workflow import notes_router as workflow_notes_router
from gateway.workflow import reports_router as workflow_reports_router
from gateway.workflow import router as workflow_router
from gateway.workflow import settings_router as workflow_settings_router
from gateway.workflow.casework import qa_router as casework_qa_router
from gateway.workflow.casework import router as casework_router
from kernel import __version__
from kernel.settings import get_settings

__all__ = ["create_app", "create_served_app", "make_relay_thread"]


def make_relay_thread(runtime: Runtime) -> RelayThread:
    """The relay a serving process runs: in-process execution, or publishing to Celery."""
    settings = runtime.settings
    dispatcher: Dispatcher
    if settings.embedded_delivery:
        dispatcher = InProcessDispatcher(
            runtime.sessions, settings.delivery_batch_size, settings.delivery_push_concurrency
        )
    else:
        dispatcher = CeleryDispatcher.for_settings(settings)
    relay = Relay(runtime.sessions, dispatcher, batch_size=settings.relay_batch_size)
    return RelayThread(
        relay,
        interval_seconds=settings.relay_interval_seconds,
        run_periodic=settings.embedded_delivery,
    )


def create_app(runtime: Runtime | None = None, *, run_relay: bool = True) -> FastAPI:
    """Build the hub's HTTP application.

    Args:
        runtime: the process runtime (default: from the environment's settings).
        run_relay: start the outbox relay thread with the app (tests may drive it by hand).
    """
    runtime = runtime or Runtime(get_settings())
    load_task_modules()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        relay = make_relay_thread(runtime) if run_relay else None
        app.state.relay = relay
        if relay is not None:
            relay.start()
        gc.freeze()  # start-up objects leave the collector's view: shorter pauses under load
        try:
            yield
        finally:
            if relay is not None:
                relay.stop()

    app = FastAPI(
        title="refhub",
        version=__version__,
        summary="Referral and handover hub: directory, consent, FHIR R4 adapters, closed loop.",
        lifespan=lifespan,
        docs_url=None,  # served from local files by gateway.http.apidocs
        redoc_url=None,
    )
    app.state.runtime = runtime
    app.state.relay = None
    metrics = HubMetrics(lambda: health_service.outbox_counts(runtime))
    app.state.metrics = metrics
    install_error_handlers(app)
    app.add_middleware(FhirFormatMiddleware)  # FHIR JSON only: other formats answer 406
    app.add_middleware(
        BodyLimitMiddleware, document_max_bytes=lambda: get_settings().document_max_bytes
    )
    app.add_middleware(AllowedHostsMiddleware, settings=runtime.settings)
    app.add_middleware(SecurityHeadersMiddleware, settings=runtime.settings)
    app.add_middleware(RequestContextMiddleware, metrics=metrics)
    app.include_router(health_router.router)
    app.include_router(fhir_router.router)
    app.include_router(clients_router.router)
    app.include_router(auth_router.router)
    app.include_router(admin_router.router)
    app.include_router(erasure_router.router)
    app.include_router(clients_admin_router.make_admin_router(current_caller))
    app.include_router(convert_router.router)
    app.include_router(documents_router.router)
    for router in directory_api.routers(
        directory_api.Wiring(
            get_session,
            current_caller,
            scope_allows,
            runtime.settings.public_base_url,
            members=directory_wiring.MEMBERS,
        )
    ):
        app.include_router(router)
    app.include_router(
        consent_router.make_router(
            current_caller,
            get_session,
            organisations=consent_wiring.ORGANISATIONS,
            scope_allows=scope_allows,
            base_url=runtime.settings.public_base_url,
        )
    )
    app.include_router(
        consent_page.make_page_router(
            get_session,
            organisations=consent_wiring.ORGANISATIONS,
            base_url=runtime.settings.public_base_url,
        )
    )
    app.include_router(
        consent_fhir_router.make_fhir_router(
            current_caller,
            get_session,
            organisations=consent_wiring.ORGANISATIONS,
            scope_allows=scope_allows,
            base_url=runtime.settings.public_base_url,
            disclosures=consent_wiring.DISCLOSURES,
        )
    )
    app.include_router(delivery_router.router)
    app.include_router(delivery_admin_router.router)
    app.include_router(delivery_inbox_router.router)
    app.include_router(delivery_subscriptions_router.router)
    app.include_router(workflow_router.router)
    app.include_router(workflow_cases_router.handover_router)
    app.include_router(workflow_cases_router.cases_router)
    app.include_router(workflow_notes_router.notes_router)
    app.include_router(casework_router.casework_router)
    app.include_router(casework_qa_router.qa_router)
    app.include_router(workflow_fhir_router.router)
    app.include_router(workflow_settings_router.router)
    app.include_router(workflow_reports_router.router)
    apidocs.install(app)
    openapi.install(app)  # the errors every route can answer, documented once
    web_shell.install(app)
    areas = (web_home, web_directory, web_clients, web_casework, web_compose, web_referrals)
    consoles = (web_supervision, web_admin, web_listings, web_hub)
    for area in (*areas, *consoles):
        app.include_router(area.router)
    app.include_router(web_router.router)
    return app


def create_served_app() -> FastAPI:
    """The app as `refhub serve` runs it, in each uvicorn worker process.

    uvicorn starts every worker as a fresh interpreter (with `--workers` > 1), so the
    parent's logging set-up does not reach it: each worker configures logging itself before
    anything can log, in the configured format, with the redaction processor.
    """
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    return create_app(Runtime(settings))
