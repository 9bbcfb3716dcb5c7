"""Read models. Each module is one projection (NAME, VERSION, TABLES, apply(event, rows))."""

from . import narratives, organisation, schedule
from . import participation
from . import feeds

# Every read model the application keeps current, in the order they are applied.
ALL = [organisation, schedule, narratives, participation]
ALL.append(feeds)
from . import council  # noqa: E402

ALL.append(council)
from . import answers  # noqa: E402

ALL.append(answers)
