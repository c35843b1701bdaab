"""Life-circle accessibility: nearest facilities, coverage, 2SFCA, gap maps, siting, safe routes.

The plain analysis core of issue 3 (no Django); the ``access`` app calls these functions.
"""

from yimi.analysis.access.ages import AGE_GROUPS
from yimi.analysis.access.demand import (
    Allocation,
    DemandPoints,
    allocate_children,
    demand_from_h3,
    demand_from_points,
)
from yimi.analysis.access.facilities import Facilities
from yimi.analysis.access.fca import FcaResult, decay_weights, two_step_fca
from yimi.analysis.access.network import Nearest, NetworkArrays, NetworkIndex, Reach, take
from yimi.analysis.access.pipeline import (
    AccessResult,
    District,
    RuleResult,
    analyse_access,
    analyse_district,
)
from yimi.analysis.access.results import (
    CoverageRow,
    GapCell,
    coverage_table,
    gap_geojson,
    h3_cells,
    h3_gap_map,
    worst_served,
)
from yimi.analysis.access.rulepack import (
    FacilityFilter,
    LifeCircle,
    Rule,
    RulePack,
    RulePackError,
    Setting,
    load_rule_pack,
    parse_rule_pack,
)
from yimi.analysis.access.safe_routes import (
    CrossingHotspot,
    EdgeAttributes,
    Route,
    RouteComparison,
    SafetyNetwork,
    SafetyRules,
    SchoolRoutes,
    load_safety_rules,
    safe_route,
    school_routes,
)
from yimi.analysis.access.siting import (
    CoverResult,
    SiteSuggestion,
    candidates_along_edges,
    candidates_at_nodes,
    coverage_matrix,
    exact_max_cover,
    greedy_max_cover,
    suggest_sites,
)
from yimi.analysis.access.synthetic import (
    generate_facilities,
    generate_grid_network,
    generate_population,
    stitch_tiles,
)

__all__ = [
    "AGE_GROUPS",
    "AccessResult",
    "Allocation",
    "CoverResult",
    "CoverageRow",
    "CrossingHotspot",
    "DemandPoints",
    "District",
    "EdgeAttributes",
    "Facilities",
    "FacilityFilter",
    "FcaResult",
    "GapCell",
    "LifeCircle",
    "Nearest",
    "NetworkArrays",
    "NetworkIndex",
    "Reach",
    "Route",
    "RouteComparison",
    "Rule",
    "RuleResult",
    "RulePack",
    "RulePackError",
    "SafetyNetwork",
    "SafetyRules",
    "SchoolRoutes",
    "Setting",
    "SiteSuggestion",
    "allocate_children",
    "analyse_access",
    "analyse_district",
    "candidates_along_edges",
    "candidates_at_nodes",
    "coverage_matrix",
    "coverage_table",
    "decay_weights",
    "demand_from_h3",
    "demand_from_points",
    "exact_max_cover",
    "gap_geojson",
    "generate_facilities",
    "generate_grid_network",
    "generate_population",
    "greedy_max_cover",
    "h3_cells",
    "h3_gap_map",
    "load_rule_pack",
    "load_safety_rules",
    "parse_rule_pack",
    "safe_route",
    "school_routes",
    "stitch_tiles",
    "suggest_sites",
    "take",
    "two_step_fca",
    "worst_served",
]
