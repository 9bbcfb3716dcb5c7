"""The console's Japanese for the application's messages: the catalogue's, beside their form field.

The console always speaks Japanese: every request runs under ``i18n.use("ja")``
(:func:`kyogikai.web.console._guarded`).  A message of the application (an :class:`~kyogikai.i18n.M`)
is shown in the catalogue's ``console`` wording when it has one — a form speaks to a clerk filling in
fields, so it names no command-line option — else in its usual Japanese
(``M.render("ja", context="console")``).  :data:`FIELDS` says beside which form field a message
belongs, by its English template (the msgid).  Field errors of the console's own parsing (dates,
times, formats, numbers) are written where the field is parsed (:mod:`kyogikai.web.console.forms`).

A message may hold messages (a suggestion of close names, the reason a base URL is refused); they are
rendered in the ``console`` wording too, where the catalogue has one (:data:`PARTS` marks those).  A
message that is not an ``M`` (a plain text) is shown as it is, never guessed at.
"""

from __future__ import annotations

from ...i18n import M, NC_, N_

# -- the application's messages in the console's wording (msgctxt "console"), and their fields -----
FIELDS: dict[str, str | None] = {
    NC_("console", "duplicate ordinal: {label} already exists (meeting {id})"): "ordinal",
    NC_("console", "cannot {doing}: the {kind} was cancelled"): None,
    NC_("console", "cannot reschedule: it was already held (record the actual dates with hold)"): None,
    NC_("console", "the new date is the same as the current one"): "date",
    NC_("console", "nothing to change: the details are the same"): None,
    NC_("console", "cannot cancel: it was already held"): None,
    NC_("console", "cannot reinstate: it is not cancelled"): None,
    NC_("console", "it is already recorded as held (give --date or times to correct what was recorded)"): None,
    NC_("console", "agenda item is empty"): "agenda",
    NC_("console", "agenda item {item!r} is already on the agenda"): "agenda",
    NC_("console", "agenda: a meeting has at most {limit} items"): "agenda",
    NC_("console", "agenda: at most {limit} items, not {count}"): "agenda",
    NC_("console", "agenda item {ref!r} not found: give its number (1..{count}) or its text"): "item",
    NC_("console", "outcome is empty"): "outcome",
    NC_("console", "the agenda item was withdrawn"): "item",
    NC_("console", "attendance is already recorded as {attendance}"): None,
    NC_("console", "start/end times need a single-day date, not a period"): "start_time",
    NC_("console", "an end time needs a start time"): "end_time",
    NC_("console", "end time {end_time:%H:%M} is not after start time {start_time:%H:%M}"): "end_time",
    NC_("console", "a part (第N部) needs a series or a title"): "part",
    NC_("console", "a {kind} refers to an earlier meeting (--refers-to)"): "refers_to",
    NC_("console", "the referred meeting belongs to another body"): "refers_to",
    NC_("console", "the referred meeting is later than this one"): "refers_to",
    NC_("console", "{what} is longer than {limit} characters"): None,
    NC_("console", "{where}: {why}"): None,
    NC_("console", "the text contains the control character {character}; remove it"): None,
    NC_("console", "the text contains the invisible or non-text character {character}; remove it"): None,
    NC_("console", "the narrative is unchanged"): "text",
    NC_("console", "a narrative paragraph is longer than {limit} characters"): "text",
    NC_("console", "a narrative has at most {limit} paragraphs, not {count}"): "text",
    NC_("console", "token {id} is already revoked"): None,
    NC_("console", "member: {name!r} was dissolved on {on}"): "member",
    NC_("console", "label: at most {limit} characters"): "label",
    NC_("console", "a lecture needs a speaker organisation (--speaker)"): "speaker",
    NC_("console", "drill results belong to a drill"): None,
    NC_("console", "links opened ({links_opened}) exceed mails sent ({mails_sent})"): "links_opened",
    NC_("console", "member: not on the body's roster at the meeting's date; only its members answer"): "member",
    NC_("console", "--member: give the member organisation"): "member",
    NC_("console", "the meeting was cancelled; it takes no answers"): None,
    NC_("console", "the meeting is recorded as held; it takes no answers"): None,
    NC_("console", "the meeting has begun or is past; it takes no answers"): None,
    NC_("console", "answers: a {kind} takes no answers (only meetings of a body do)"): None,
    NC_("console", "meeting {ref}: a {kind} takes no answers (only meetings of a body do)"): None,
    NC_("console", "answer: the meeting is held in writing; members vote on its items (meeting vote)"): "answer",
    NC_("console", "--answer: {value!r} is not one of {choices}"): "answer",
    NC_("console", "proxy: give the name of who attends on the member's behalf"): "proxy",
    NC_("console", "proxy: only with the answer proxy"): "proxy",
    NC_("console", "proxy: at most {limit} characters"): "proxy",
    NC_("console", "comment: at most {limit} characters"): "comment",
    NC_("console", "vote: the meeting is not held in writing; votes are for written deliberations"): "vote",
    NC_("console", "--vote: {value!r} is not one of {choices}"): "vote",
    NC_("console", "--item: no agenda item {number!r}; the items are numbered 1..{count}"): "item",
    NC_("console", "--item: the meeting has no agenda items"): "item",
    NC_("console", "programme is already named {name!r}"): "new_name",
    NC_("console", "body is already named {name!r}"): "new_name",
    NC_("console", "member is already named {name!r}"): "new_name",
    NC_("console", "programme {name!r} was dissolved on {on}"): None,
    NC_("console", "body {name!r} was dissolved on {on}"): None,
    NC_("console", "member {name!r} was dissolved on {on}"): None,
    NC_("console", "{what}: name is empty"): "name",
    NC_("console", "{what}: name is longer than {limit} characters"): "name",
    NC_("console", "member is already in since {since}"): "member",
    NC_("console", "join date {since} is not after the last leave {until}"): "since",
    NC_("console", "member is not in"): "member",
    NC_("console", "leave date {until} is before the join date {since}"): "since",
    NC_("console", "local government code {code!r} must be 6 digits (or 5 without the check digit)"): "code",
    NC_("console", "local government code {code!r} has a wrong check digit (expected {check})"): "code",
    NC_("console", "parent body {name!r} belongs to another programme"): "parent",
    NC_("console", "body {name!r}: bodies nest at most four deep"): "parent",
    NC_("console", "body {name!r} is already public"): "visibility",
    NC_("console", "body {name!r} is already non-public"): "visibility",
    NC_("console", "programme {name!r} is an all-member programme: every member takes part"): "member",
    NC_("console", "description is longer than {limit} characters ({length:,})"): "description",
    NC_("console", "entry date: {problem}"): None,
    NC_("console", "title: {problem}"): None,
    NC_("console", "no title line (令和N年度事業報告): fiscal year {fy} taken from the first date"): None,
    NC_("console", "the file holds no report: no section (1 全団体事業 …) with a programme was found; nothing imported"): None,
    NC_("console", "--name: is empty"): "name",
    NC_("console", "--name: the council has no name yet; give --name"): "name",
    NC_("console", "--name: longer than {limit} characters ({length:,})"): "name",
    NC_("console", "--short: is empty"): "short_name",
    NC_("console", "--short: longer than {limit} characters ({length:,})"): "short_name",
    NC_("console", "--base-url: is empty"): "base_url",
    NC_("console", "--base-url: longer than {limit} characters ({length:,})"): "base_url",
    NC_("console", "--document-font: {font!r} is not one of {choices}"): "document_font",
    NC_("console", "user name: empty"): "username",
    NC_("console", "user name: at most {limit} characters"): "username",
    NC_("console", "user name: no spaces or control characters"): "username",
    NC_("console", "user {name!r} already exists"): "username",
    NC_("console", "user {name!r} already exists (disabled)"): "username",
    NC_("console", "no user {name!r}"): "username",
    NC_("console", "user {name!r} is disabled"): "username",
    NC_("console", "user {name!r} already has the role {role}"): "role",
    NC_("console", "user {name!r} is the last admin; make another admin first"): "role",
    NC_("console", "role: {role!r} is not one of clerk, admin"): "role",
    NC_("console", "password: at least {limit} characters"): "password",
    NC_("console", "password: at most {limit} characters"): "password",
    NC_("console", "password: no control characters"): "password",
    NC_("console", "current password: wrong"): "current_password",
    NC_("console", "current password: too many failed attempts; wait and try again"): "current_password",
    # names that resolve to nothing or to more than one (application/names.py)
    NC_("console", "unknown body {name!r}{suggestion}"): "body",
    NC_("console", "body {name!r} is ambiguous: {count} bodies fit — {candidates}"): "body",
    NC_("console", "unknown member {name!r}{suggestion}"): "member",
    NC_("console", "unknown programme {name!r}{suggestion}"): "programme",
    NC_("console", "no meeting with id {ref!r}"): None,
    # where a meeting belongs (application/meetings.py)
    NC_("console", "body: give --body (or --programme for an activity)"): "programme",
    NC_("console", "body {body!r} is not in programme {programme!r}"): "body",
    # names taken (application/organisation.py)
    NC_("console", "programme {name!r} already exists"): "name",
    NC_("console", "body {name!r} already exists there"): "name",
    NC_("console", "member {name!r} already exists"): "name",
    # the base URL of the council's settings (application/council.py; its reason from feeds/urls.py)
    NC_("console", "--base-url: {reason}"): "base_url",
}
FIELDS["body: name is empty"] = "body"        # by the English of a message: the body a meeting form names

# messages shown only inside another message (its values), in the console's wording
PARTS = (
    NC_("console", " (did you mean {names}?)"),
    NC_("console", "{url} is longer than {limit} characters"),
    NC_("console", "{url}: a space is not allowed in a base URL (write it as %20)"),
    NC_("console", "{url}: the character {character!r} is not allowed in a base URL (use punycode and %-escapes)"),
    NC_("console", "{url}: U+{code} is not allowed in a base URL"),
    NC_("console", "{url}: '%' must start a %-escape such as %20"),
    NC_("console", "{url} is not a URL ({problem})"),
    NC_("console", "{url} is not an http:// or https:// URL with a host"),
    NC_("console", "{url}: the host {host!r} is not a host name or IP address"),
    NC_("console", "{url}: give scheme, host, optional port and path only (no query, fragment or user)"),
    NC_("console", "{url}: the port is not a number from 0 to 65535"),
    NC_("console", "{url}: spaces and non-ASCII characters are not allowed (use punycode / %-escapes)"),
)

CONFLICT = M(N_("Someone else changed the same record at the same time. Nothing was saved. Check the latest "
                "content, then send the form again.")).render("ja")
STALE = M(N_("Someone else changed this entry after you opened this page. Nothing was saved. Check the latest "
             "content below, then send the form again (what you entered is kept).")).render("ja")


def translate(message: object) -> tuple[str | None, str]:
    """``(field or None, Japanese text)`` for an application message (an exception, an ``M`` or a text)."""
    if isinstance(message, BaseException):
        message = message.args[0] if len(message.args) == 1 else str(message)
    if isinstance(message, M):
        field = FIELDS.get(message.render("en"), FIELDS.get(message.template))
        return field, " ".join(message.render("ja", context="console").split())
    return None, " ".join(str(message).split())
