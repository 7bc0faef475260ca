"""Lost and found (docs/lost-and-found.md): lost reports, the public views and the nearby
search (no sign-in needed: anonymous callers are rate limited per address by the gate),
sightings, found reports and matches."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from litestar import Controller, Request, Response, get, patch, post
from litestar.params import JSONBody, QueryParameter

from tailtracker_core.model.geo import GeoPoint
from tailtracker_core.model.pets import Species
from tailtracker_core.model.tiers import Tier
from tailtracker_core.ports import AccessClaims
from tailtracker_core.usecases import lost_found, lost_queries
from tailtracker_core.usecases.deps import Deps
from tailtracker_core.usecases.lost_found import LostReportView

from ..conventions import expected_version, page_response, paginate, represent, select_fields
from ..gate import AUTH_STATE_KEY, AuthOutcome
from ..idempotency import idempotent
from ..identity import BEARER
from ..params import (
    Claims,
    Cursor,
    DepsDep,
    Fields,
    IdempotencyKey,
    IfMatch,
    Limit,
    PathId,
    nearby_reader_of,
    tiers_of,
)
from ..problems import problem_responses
from ..schemas import utc
from ..schemas.lost_found import (
    FoundReportIn,
    FoundReportOut,
    Location,
    LostReportIn,
    LostReportOut,
    LostReportPatch,
    MatchOut,
    MatchPage,
    NearbyPage,
    NearbyReportOut,
    PublicLostReportOut,
    SightingIn,
    SightingOut,
    SightingPage,
)

__all__ = ["FoundReportController", "LostReportController"]

# Optional sign-in: the public views accept a bearer token (members then see full detail)
# and work without one.
OPTIONAL_BEARER: list[dict[str, list[str]]] = [{}, {"bearer": []}]

LatQuery = Annotated[float, QueryParameter(ge=-90, le=90, description="Latitude, WGS84 degrees.")]
LonQuery = Annotated[float, QueryParameter(ge=-180, le=180, description="Longitude, WGS84 degrees.")]
RadiusQuery = Annotated[
    float,
    QueryParameter(
        gt=0, description="km, above 0 and at most your tier's alert radius (signed out: free tier)."
    ),
]
SpeciesQuery = Annotated[Species | None, QueryParameter(description="Only this species.")]


def optional_claims(request: Request[Any, Any, Any]) -> AccessClaims | None:
    """The caller's claims when they sent a valid token, None when they sent none; a token
    that is invalid or expired is still a 401 (the client should refresh, not be downgraded)."""
    outcome = request.scope.get("state", {}).get(AUTH_STATE_KEY)
    if not isinstance(outcome, AuthOutcome):
        return None
    if outcome.error is not None:
        raise outcome.error
    return outcome.claims


def _view_out(view: LostReportView) -> tuple[LostReportOut | PublicLostReportOut, int | None]:
    if view.detail is not None:
        return LostReportOut.of(view.detail, view.public), view.detail.version
    return PublicLostReportOut.of(view.public), None


class LostReportController(Controller):
    path = "/v1/lost-reports"
    tags: ClassVar[list[str]] = ["Lost and found"]

    @post(
        "/",
        summary="Report a pet lost",
        description="Owners and members of the pet's family. One open report per pet (409); "
        "`radius_km` above the family tier's alert radius is 403 `tier_limit_exceeded`; "
        "`last_seen_at` in the future is 422. Neighbours who opted in are alerted in the background.",
        status_code=201,
        security=BEARER,
        responses=problem_responses(403, 404, 409),
        sync_to_thread=True,
    )
    def open_report(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[LostReportIn],
        claims: Claims,
        deps: DepsDep,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[LostReportOut]:
        def produce(deps: Deps) -> Response[LostReportOut]:
            report = lost_found.open_lost_report(
                deps,
                claims.user_id,
                data.pet_id,
                data.last_seen_at,
                data.location.point(),
                data.radius_km,
                data.description,
                data.reward,
            )
            view = lost_found.view_lost_report(deps, claims.user_id, report.id)
            assert view.detail is not None
            location = {"Location": f"/v1/lost-reports/{report.id}"}
            out = LostReportOut.of(view.detail, view.public)
            return represent(request, out, report.version, status_code=201, headers=location)

        return idempotent(deps, request, claims.user_id, idempotency_key, data, produce)

    # Runs on the event loop against the read side (container.nearby_reader): no thread hop,
    # no `deps` to resolve, one database statement on PostgreSQL (docs/decisions.md D33).
    @get(
        "/",
        summary="Open lost reports nearby (public view, nearest first)",
        description="No sign-in needed. `radius_km` is at most the caller's tier's alert radius "
        "(signed out: the free tier's); at most `limit` reports, no further pages.",
        security=OPTIONAL_BEARER,
        responses=problem_responses(401, 403),
    )
    async def search(
        self,
        request: Request[Any, Any, Any],
        lat: LatQuery,
        lon: LonQuery,
        radius_km: RadiusQuery = 5.0,
        species: SpeciesQuery = None,
        limit: Limit = 20,
        fields: Fields = None,
    ) -> NearbyPage:
        select_fields(NearbyReportOut, fields)
        claims = optional_claims(request)
        tier = claims.tier if claims else Tier.FREE
        point = GeoPoint.parse(lat, lon, field="query")
        hits = await lost_queries.search_nearby(
            nearby_reader_of(request), tiers_of(request), tier, point, radius_km, species, limit
        )
        return page_response(NearbyPage, NearbyReportOut, [NearbyReportOut.of(h) for h in hits], None, fields)

    @get(
        "/{report_id:str}",
        summary="One lost report",
        description="The public view (`view: public`) for anyone, signed in or not; members of "
        "the pet's family get the full detail (`view: family`).",
        security=OPTIONAL_BEARER,
        responses=problem_responses(304, 401, 404),
        sync_to_thread=True,
    )
    def get_report(
        self,
        request: Request[Any, Any, Any],
        report_id: PathId,
        deps: DepsDep,
    ) -> Response[LostReportOut | PublicLostReportOut]:
        claims = optional_claims(request)
        view = lost_found.view_lost_report(deps, claims.user_id if claims else None, report_id)
        out, version = _view_out(view)
        return represent(request, out, version)  # type: ignore[arg-type]

    @patch(
        "/{report_id:str}",
        summary="Mark a lost report found or closed, or change its text (the family)",
        description="`status` found or closed is final. Stale If-Match: 412.",
        security=BEARER,
        responses=problem_responses(403, 404, 409, 412),
        sync_to_thread=True,
    )
    def update_report(
        self,
        request: Request[Any, Any, Any],
        report_id: PathId,
        data: JSONBody[LostReportPatch],
        claims: Claims,
        deps: DepsDep,
        if_match: IfMatch = None,
    ) -> Response[LostReportOut]:
        version = expected_version(if_match)
        view = lost_found.update_lost_report(deps, claims.user_id, report_id, data.changes(), version)
        assert view.detail is not None
        return represent(request, LostReportOut.of(view.detail, view.public), view.detail.version)

    @post(
        "/{report_id:str}/sightings",
        summary="Report seeing a lost pet",
        description="Anyone signed in; the pet's family is notified at once. Open reports only (409).",
        status_code=201,
        security=BEARER,
        responses=problem_responses(404, 409),
        sync_to_thread=True,
    )
    def add_sighting(
        self,
        request: Request[Any, Any, Any],
        report_id: PathId,
        data: JSONBody[SightingIn],
        claims: Claims,
        deps: DepsDep,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[SightingOut]:
        def produce(deps: Deps) -> Response[SightingOut]:
            sighting = lost_found.record_sighting(
                deps, claims.user_id, report_id, data.seen_at, data.location.point(), data.note
            )
            return Response(SightingOut.of(sighting), status_code=201)

        return idempotent(deps, request, claims.user_id, idempotency_key, data, produce)

    @get(
        "/{report_id:str}/sightings",
        summary="Sightings of your lost pet (the family)",
        security=BEARER,
        responses=problem_responses(404),
        sync_to_thread=True,
    )
    def list_sightings(
        self,
        report_id: PathId,
        claims: Claims,
        deps: DepsDep,
        limit: Limit = 20,
        cursor: Cursor = None,
        fields: Fields = None,
    ) -> SightingPage:
        select_fields(SightingOut, fields)
        rows, next_cursor = paginate(
            lambda after, n: lost_found.list_sightings(deps, claims.user_id, report_id, after, n),
            cursor,
            limit,
            lambda s: s.id,
        )
        return page_response(
            SightingPage, SightingOut, [SightingOut.of(s) for s in rows], next_cursor, fields
        )

    @get(
        "/{report_id:str}/matches",
        summary="Found reports that may be your pet (the family), best first",
        security=BEARER,
        responses=problem_responses(404),
        sync_to_thread=True,
    )
    def lost_matches(self, report_id: PathId, claims: Claims, deps: DepsDep, limit: Limit = 20) -> MatchPage:
        rows = lost_found.matches_for_lost_report(deps, claims.user_id, report_id, limit)
        return MatchPage([MatchOut.for_lost(m) for m in rows])


class FoundReportController(Controller):
    path = "/v1/found-reports"
    tags: ClassVar[list[str]] = ["Lost and found"]
    security = BEARER

    @post(
        "/",
        summary="Report an animal found or seen loose",
        description="Anyone signed in. Answers with the open lost reports it may match, best first.",
        status_code=201,
        responses=problem_responses(409),
        sync_to_thread=True,
    )
    def file_report(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[FoundReportIn],
        claims: Claims,
        deps: DepsDep,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[FoundReportOut]:
        def produce(deps: Deps) -> Response[FoundReportOut]:
            found, matches = lost_found.file_found_report(deps, claims.user_id, data.draft())
            out = FoundReportOut(
                id=found.id,
                species=found.species,
                colors=list(found.colours),
                breed=found.breed,
                size=found.size,
                sex=found.sex,
                microchip=str(found.microchip) if found.microchip else None,
                seen_at=utc(found.seen_at),
                location=Location.of(found.location),
                description=found.description,
                filed_at=utc(found.filed_at),
                matches=[MatchOut.for_found(m) for m in matches],
            )
            return Response(out, status_code=201)

        return idempotent(deps, request, claims.user_id, idempotency_key, data, produce)

    @get(
        "/{report_id:str}/matches",
        summary="Lost reports your found report may match (its reporter), best first",
        responses=problem_responses(404),
        sync_to_thread=True,
    )
    def found_matches(self, report_id: PathId, claims: Claims, deps: DepsDep, limit: Limit = 20) -> MatchPage:
        rows = lost_found.matches_for_found_report(deps, claims.user_id, report_id, limit)
        return MatchPage([MatchOut.for_found(m) for m in rows])
