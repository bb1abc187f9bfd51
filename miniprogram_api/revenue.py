"""Half-yearly public-revenue statements of the committee (docs/disclosures.md), versioned like the
disclosures: one series of versions per period."""
from backend.security import current_user
from backend.services import disclosures as service
from miniprogram_api.common import BEARER, PageArgs, blueprint, page_schema
from miniprogram_api.disclosures import DiffArgs, DiffSchema, PublishArgs, VersionPage, VersionSchema

blp = blueprint("revenue", "Public-revenue statements")

StatementPage = page_schema(VersionSchema, "RevenueStatementPage")
PERIOD = "<period>"


@blp.route("/communities/<int:cid>/revenue-statements", methods=["GET"])
@blp.doc(security=BEARER)
@blp.arguments(PageArgs, location="query")
@blp.response(200, StatementPage)
def statements(args, cid):
    """The current version of each half-year's statement, latest period first."""
    return service.revenue_statements(current_user(), cid, **args)


@blp.route("/communities/<int:cid>/revenue-statements", methods=["POST"])
@blp.doc(security=BEARER)
@blp.arguments(PublishArgs)
@blp.response(201, VersionSchema)
def publish(args, cid):
    """Publish a half-year's statement, or a corrected version of it (committee)."""
    return service.publish_revenue_statement(current_user(), cid, **args)


@blp.route(f"/communities/<int:cid>/revenue-statements/{PERIOD}/versions", methods=["GET"])
@blp.doc(security=BEARER)
@blp.arguments(PageArgs, location="query")
@blp.response(200, VersionPage)
def versions(args, cid, period):
    """The versions of one half-year's statement, newest first."""
    return service.revenue_statement_versions(current_user(), cid, period, **args)


@blp.route(f"/communities/<int:cid>/revenue-statements/{PERIOD}/versions/<int:number>", methods=["GET"])
@blp.doc(security=BEARER)
@blp.response(200, VersionSchema)
def version(cid, period, number):
    """One version of a half-year's statement."""
    return service.revenue_statement_version(current_user(), cid, period, number)


@blp.route(f"/communities/<int:cid>/revenue-statements/{PERIOD}/diff", methods=["GET"])
@blp.doc(security=BEARER)
@blp.arguments(DiffArgs, location="query")
@blp.response(200, DiffSchema)
def diff(args, cid, period):
    """Field-by-field changes between two versions of a half-year's statement."""
    return service.revenue_statement_diff(current_user(), cid, period, args["from_version"], args["to_version"])
