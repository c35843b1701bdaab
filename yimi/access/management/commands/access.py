"""``yimi access run`` (a life-circle analysis in this process) and ``yimi access nearest``
(walking distance from every network node to the nearest place of a category, as CSV)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from yimi.core.console import StageProgress
from yimi.core.services import ServiceError


class Command(BaseCommand):
    help = "Life-circle accessibility: run an analysis, or write nearest distances per node."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        run = sub.add_parser("run", help="run an analysis now and print its coverage summary")
        run.add_argument("--area", help="division code of the area (all areas by default)")
        run.add_argument("--rules", help="rule ids, comma-separated (all by default)")
        run.add_argument("--h3", type=int, default=9, help="H3 resolution of the gap maps")
        run.add_argument("--decay", default="flat", choices=["flat", "gaussian"])
        run.add_argument(
            "--demand", default="buildings", help="'buildings' or the id of a demand table"
        )
        run.add_argument("--include-planned", action="store_true", help="add planned facilities")
        run.add_argument("--year", type=int, help="population year (latest by default)")
        run.add_argument("--json", dest="json_out", help="write summary and coverage to this file")
        run.add_argument("--no-progress", action="store_true", help="no progress bar")
        near = sub.add_parser(
            "nearest", help="walking metres from every network node to the nearest place"
        )
        near.add_argument("--category", required=True, help="place category code, e.g. park")
        near.add_argument("--csv", dest="csv_out", required=True, help="output CSV file")
        near.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args, action: str, **options):
        if action == "run":
            self._run(**options)
        else:
            self._nearest(**options)

    # ------------------------------------------------------------------ run

    def _run(
        self,
        *,
        area,
        rules,
        h3,
        decay,
        demand,
        include_planned,
        year,
        json_out,
        no_progress,
        **_options,
    ):
        from yimi.access import selectors
        from yimi.access.services import run_create, run_execute

        try:
            run = run_create(
                actor=None,
                area=area,
                rules=[r.strip() for r in rules.split(",") if r.strip()] if rules else None,
                h3_resolution=h3,
                decay=decay,
                demand=demand,
                include_planned=include_planned,
                year=year,
                background=False,
            )
        except ServiceError as exc:
            raise CommandError(exc.message) from exc
        with StageProgress(
            {"analysis": _("Analysing life-circle access")}, enabled=not no_progress
        ) as bar:
            run = run_execute(
                run_id=run.pk, progress=lambda _stage, done, total: bar("analysis", done, total)
            )
        if run.status != run.Status.DONE:
            raise CommandError(_("Analysis #%(id)s failed: %(e)s") % {"id": run.pk, "e": run.error})
        out = self.stdout.write
        s = selectors.run_summary(run)
        out(
            _("Analysis #%(id)s (%(scope)s): %(kids)s children in %(n)s homes")
            % {
                "id": run.pk,
                "scope": run.area.name if run.area else _("all areas"),
                "kids": f"{s['children']:,.0f}",
                "n": f"{s['demand_points']:,}",
            }
        )
        if run.generated_demand:
            out(_("  GENERATED demand: not real children."))
        for r in s["rules"]:
            share = "—" if r["share"] is None else f"{100 * r['share']:.1f}%"
            mean = "—" if r["mean_m"] is None else f"{r['mean_m']:,.0f}"
            out(
                "  "
                + _(
                    "%(label)s within %(m).0f m: %(cov)s of %(kids)s children (%(share)s), "
                    "%(f)s facilities, nearest on average %(mean)s m"
                )
                % {
                    "label": r["label"],
                    "m": r["threshold_m"],
                    "cov": f"{r['covered'] or 0:,.0f}",
                    "kids": f"{r['children'] or 0:,.0f}",
                    "share": share,
                    "f": r["facilities"],
                    "mean": mean,
                }
            )
        if json_out:
            doc = {
                "run": run.pk,
                "params": run.params,
                "summary": s,
                "coverage": selectors.run_coverage(run),
            }
            Path(json_out).write_text(
                json.dumps(doc, ensure_ascii=False, indent=1), encoding="utf-8"
            )
            out(_("Written: %(p)s") % {"p": json_out})

    # ------------------------------------------------------------------ nearest

    def _nearest(self, *, category, csv_out, no_progress, **_options):
        import numpy as np

        from yimi.access.nearest import nearest_place_per_node
        from yimi.places.models import Category, Place
        from yimi.places.network import get_walk_graph

        if category not in Category.values:
            raise CommandError(
                _("Unknown category “%(c)s” (categories: %(all)s).")
                % {"c": category, "all": ", ".join(Category.values)}
            )
        with StageProgress(
            {
                "load": _("Loading the walking network"),
                "search": _("Searching the network"),
                "write": _("Writing the CSV file"),
            },
            enabled=not no_progress,
        ) as bar:
            bar("load", 0, 1)
            graph = get_walk_graph()
            if graph is None:
                raise CommandError(_("No walking network is stored: import an OSM extract first."))
            places = list(
                Place.objects.visible_to(None)
                .filter(category=category)
                .order_by("id")
                .values_list("id", "lon", "lat")
            )
            bar("load", 1, 1)
            bar("search", 0, 1)
            snap = graph.snap([p[1] for p in places], [p[2] for p in places])
            dist, which = nearest_place_per_node(graph, snap)
            bar("search", 1, 1)
            ids = graph.node_ids if graph.node_ids is not None else np.arange(graph.n_nodes)
            n = graph.n_nodes
            with open(csv_out, "w", newline="", encoding="utf-8") as fh:
                w = csv.writer(fh)
                w.writerow(["osm_node_id", "lon", "lat", "distance_m", "place_id"])
                for i in range(n):
                    reached = which[i] >= 0
                    w.writerow(
                        [
                            int(ids[i]),
                            f"{graph.lon[i]:.7f}",
                            f"{graph.lat[i]:.7f}",
                            f"{dist[i]:.3f}" if reached else "",
                            places[int(which[i])][0] if reached else "",
                        ]
                    )
                    if i % 10000 == 0 or i == n - 1:
                        bar("write", i + 1, n)
        reached = int((which >= 0).sum())
        self.stdout.write(
            _("%(n)s nodes written to %(p)s (%(r)s reach a place of category %(c)s).")
            % {"n": n, "p": csv_out, "r": reached, "c": Category(category).label}
        )
