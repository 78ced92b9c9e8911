"""Full-text search over the messages the caller may see."""

from flask_jwt_extended import current_user, jwt_required

from app.api import bp
from app.schemas.http import BEARER, operation
from app.schemas.workflow import SearchQuery, SearchResults
from app.services import search as search_service


@bp.get("/search")
@jwt_required()
@operation(query=SearchQuery, responses={200: SearchResults}, errors=(400, 401), security=BEARER)
def search(query: SearchQuery):
    """Messages whose words start with every word of `q`, newest first, with highlights.

    Case- and accent-insensitive, Turkish letters included (ı I i İ, ş, ğ, ç, ö, ü).
    """
    return SearchResults(results=search_service.search(current_user, query.q, query.limit))
