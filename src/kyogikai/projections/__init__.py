"""Read models. Each module is one projection: NAME, VERSION, TABLES, and HANDLERS (event type →
the handler writing its rows; :class:`~kyogikai.projections.runtime.Dispatch` runs them)."""

from . import answers, council, feeds, narratives, organisation, participation, schedule

# Every read model the application keeps current, in the order they are applied.
ALL = [organisation, schedule, narratives, participation, feeds, council, answers]
