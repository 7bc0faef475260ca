"""The HTTP app, composed in one place: controllers, the exception mapper, dependencies,
middleware and plugins are listed here, not discovered."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import anyio.to_thread
from litestar import Litestar
from litestar.config.compression import CompressionConfig
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin, ScalarRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme, Tag

from entrypoints.bootstrap import Container

from .controllers.auth import AuthController
from .controllers.calendar import FamilyCalendarFeedController, PetCalendarFeedController
from .controllers.care import (
    CareScheduleController,
    CareTaskController,
    MedicalRecordController,
    PetCareController,
    VaccinationController,
)
from .controllers.consents import ConsentController
from .controllers.families import FamilyController
from .controllers.files import NO_COMPRESSION, file_controller
from .controllers.invitations import FamilyInvitationController, InvitationController
from .controllers.lost_found import FoundReportController, LostReportController
from .controllers.me import MeController
from .controllers.notifications import NotificationController, NotificationPreferenceController
from .controllers.ops import OpsController
from .controllers.pets import PetController
from .gate import Gate
from .headers import security_headers
from .identity import current_claims
from .metrics import HttpMetrics
from .params import (
    CARE_TASK_READER_STATE_KEY,
    CLOCK_STATE_KEY,
    NEARBY_READER_STATE_KEY,
    PET_READER_STATE_KEY,
    TIERS_STATE_KEY,
)
from .problems import handle_exception, require_json_body

__all__ = ["create_app", "openapi_config"]

CONTROLLERS = [
    AuthController,
    MeController,
    FamilyController,
    FamilyInvitationController,
    InvitationController,
    PetController,
    PetCareController,
    VaccinationController,
    MedicalRecordController,
    CareScheduleController,
    CareTaskController,
    ConsentController,
    LostReportController,
    FoundReportController,
    NotificationController,
    NotificationPreferenceController,
    OpsController,
    PetCalendarFeedController,
    FamilyCalendarFeedController,
]
_PROBES = frozenset({"/health", "/ready", "/metrics"})


def _is_operations_path(path: str) -> bool:
    """Probes, scrapers and the schema are never limited (a throttled probe restarts pods)."""
    return path in _PROBES or path == "/schema" or path.startswith("/schema/")


def openapi_config() -> OpenAPIConfig:
    return OpenAPIConfig(
        title="TailTracker API",
        version="1.0.0",
        description="Pets, families that share them, and the user's privacy choices. "
        "Errors are RFC 9457 problem details with a stable `code`.",
        path="/schema",
        render_plugins=[ScalarRenderPlugin(path="/"), JsonRenderPlugin()],
        components=Components(
            security_schemes={
                "bearer": SecurityScheme(
                    type="http", scheme="bearer", bearer_format="JWT", description="The access token."
                )
            }
        ),
        tags=[
            Tag(name="Auth", description="Accounts and tokens."),
            Tag(name="Account", description="The signed-in user's profile."),
            Tag(name="Families", description="Sharing groups, members and roles."),
            Tag(name="Invitations", description="Joining a family by an emailed link."),
            Tag(name="Pets", description="Pets of the caller's families."),
            Tag(name="Files", description="Pets' photos and documents: upload, list, fetch, delete."),
            Tag(name="Privacy", description="Consent records and receipts."),
            Tag(name="Lost and found", description="Lost reports, sightings, found reports and matches."),
            Tag(name="Notifications", description="In-app notifications and what you want to be told."),
            Tag(name="Calendar", description="Secret iCalendar feeds of a pet's or a family's care."),
            Tag(name="Operations", description="Probes and metrics."),
        ],
        use_handler_docstrings=False,
    )


def create_app(
    container: Container,
    *,
    on_startup: Sequence[Callable[[], Any]] = (),
    on_shutdown: Sequence[Callable[[], Any]] = (),
) -> Litestar:
    settings = container.settings
    metrics = HttpMetrics()

    def size_thread_pool() -> None:
        # Sync handlers run in anyio's thread pool (40 threads by default). More threads than
        # database connections only queue on the pool while fighting for the GIL.
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.http_threads

    rules = container.deps.config.files
    app = Litestar(
        route_handlers=[*CONTROLLERS, file_controller(max(rules.photo_max_bytes, rules.document_max_bytes))],
        dependencies={
            "container": Provide(lambda: container, use_cache=True, sync_to_thread=False),
            "deps": Provide(lambda: container.deps, use_cache=True, sync_to_thread=False),
            "metrics": Provide(lambda: metrics, use_cache=True, sync_to_thread=False),
            "claims": Provide(current_claims, sync_to_thread=False),
        },
        # The read side, for the async read handlers (see params.pet_reader_of).
        state=State(
            {
                PET_READER_STATE_KEY: container.pet_reader,
                CARE_TASK_READER_STATE_KEY: container.care_task_reader,
                CLOCK_STATE_KEY: container.deps.clock,
                NEARBY_READER_STATE_KEY: container.nearby_reader,
                TIERS_STATE_KEY: container.deps.config.tiers,
            }
        ),
        exception_handlers={Exception: handle_exception},
        before_request=require_json_body,
        before_send=[security_headers(production=settings.env == "production")],
        compression_config=CompressionConfig(
            backend="brotli",
            brotli_gzip_fallback=True,
            minimum_size=500,
            exclude_opt_key=NO_COMPRESSION,  # file bytes: images and PDFs are compressed already
        ),
        openapi_config=openapi_config() if settings.schema_enabled else None,
        request_max_body_size=settings.max_body_bytes,
        on_startup=[size_thread_pool, *on_startup],
        # The read side's connections belong to the serving loop: closed there, first.
        on_shutdown=[container.aclose_readers, *on_shutdown],
        debug=False,
    )
    # The gate and the metrics wrap the router itself (not the route middleware stack), so
    # that unknown routes are limited and counted too; Litestar's before_send still applies.
    gate = Gate(
        app.asgi_handler,
        container.deps,
        container.session_reader,
        rate_limits=settings.rate_limits_enabled,
        offload=not settings.cache_url.startswith("memory"),
        exempt=_is_operations_path,
    )
    app.asgi_handler = metrics.middleware(gate)
    return app
