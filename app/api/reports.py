"""Reports for admins."""

from app.api import bp
from app.api.access import admin_required
from app.schemas.http import BEARER, operation
from app.schemas.reports import Report, ReportQuery
from app.services import reports


@bp.get("/reports")
@admin_required
@operation(query=ReportQuery, responses={200: Report}, errors=(400, 401, 403), security=BEARER)
def report(query: ReportQuery):
    """Conversations opened and resolved, first response and resolution times (admins).

    Per agent (the owner after transfers) and per UTC day over `since`..`until`
    (both included; default the last 7 days, at most 366).
    """
    return reports.build(query.since, query.until)
