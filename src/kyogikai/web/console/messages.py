"""The console's Japanese for the application's messages: the catalogue's, beside their form field.

The console always speaks Japanese: every request runs under ``i18n.use("ja")``
(:func:`kyogikai.web.console._guarded`).  A message of the application (an :class:`~kyogikai.i18n.M`)
is shown in the catalogue's ``console`` wording when it has one — a form speaks to a clerk filling in
fields, so it names no command-line option — else in its usual Japanese
(``M.render("ja", context="console")``).  :data:`FIELDS` says beside which form field a message
belongs, by its English template (the msgid).  Field errors of the console's own parsing (dates,
times, formats, numbers) are written where the field is parsed (:mod:`kyogikai.web.console.forms`).

**Messages of ``app.py``** are still plain English strings (another change converts them to the
catalogue); until then :data:`APP_MESSAGES` matches them, by their English, to a field and a
Japanese text.  It is matched first, also against the English of an ``M``, so it keeps serving once
those messages are ``M`` — then its entries belong in the catalogue's ``console`` context and the
table can go.  An unknown plain message is shown as it is, never guessed at.
"""

from __future__ import annotations

import re

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
}
FIELDS["body: name is empty"] = "body"        # by the English of a message: the body a meeting form names

Entry = tuple[re.Pattern[str], str | None, str]


def _e(pattern: str, field: str | None, ja: str) -> Entry:
    return re.compile(pattern + r"\Z", re.S), field, ja


APP_MESSAGES: list[Entry] = [
    _e(r"unknown body '(?P<name>.*)'(?: \(did you mean (?P<hint>.*)\?\))?", "body",
       "会議体「{name}」が見つかりません。{hint_ja}"),
    _e(r"body '(?P<name>.*)' is ambiguous: (?P<n>\d+) bodies fit — (?P<cands>.*)", "body",
       "会議体「{name}」に当てはまるものが{n}件あります。「上位の会議体/会議体名」の形で指定してください（候補: {cands}）。"),
    _e(r"duplicate ordinal: (?P<label>.*?) in (?P<fy>\S+) already exists \(meeting (?P<id>[0-9a-f]+)\)", "ordinal",
       "{label}（{fy}）はすでに登録されています（会議ID {id}）。回数を確認してください。"),
    _e(r"no meeting with id '(?P<id>.*)'", None, "会議ID「{id}」の予定はありません。"),
    _e(r"unknown member '(?P<name>.*)'(?: \(did you mean (?P<hint>.*)\?\))?", "member",
       "会員団体「{name}」が見つかりません。{hint_ja}"),
    _e(r"unknown programme '(?P<name>.*)'(?: \(did you mean (?P<hint>.*)\?\))?", "programme",
       "事業「{name}」が見つかりません。{hint_ja}"),
    _e(r"body: give --body \(or --programme for an activity\)", "programme", "事業（または会議体）を入力してください。"),
    _e(r"body '(?P<b>.*)' is not in programme '(?P<p>.*)'", "body", "会議体「{b}」は事業「{p}」に属していません。"),
    _e(r"programme '(?P<name>.*)' already exists", "name", "事業「{name}」はすでにあります。"),
    _e(r"body '(?P<name>.*)' already exists there", "name", "そこにはすでに会議体「{name}」があります。"),
    _e(r"member '(?P<name>.*)' already exists", "name", "会員団体「{name}」はすでに登録されています。"),
    # the base URL of ``council set`` (feeds/urls.py's checks, prefixed by app.py)
    _e(r"--base-url: .*: a space is not allowed in a base URL.*", "base_url",
       "公開URLに空白は使えません（空白は %20 と書いてください）。"),
    _e(r"--base-url: .*: the character '(?P<c>.)' is not allowed in a base URL.*", "base_url",
       "公開URLに「{c}」は使えません（引用符・山かっこ・円記号・日本語などは使えません。日本語のドメインは xn-- で始まる形で、"
       "ほかの文字は %-エスケープで書いてください）。"),
    _e(r"--base-url: .*: U\+(?P<cp>[0-9A-F]+) is not allowed in a base URL.*", "base_url",
       "公開URLに制御文字（U+{cp}）は使えません。"),
    _e(r"--base-url: .* is longer than (?P<n>\d+) characters", "base_url", "公開URLは{n}文字までです。"),
    _e(r"--base-url: .* is not an http:// or https:// URL with a host", "base_url",
       "公開URLは http:// か https:// で始まり、ホスト名を含むURLにしてください（例: https://kyogikai.example.lg.jp）。"),
    _e(r"--base-url: .*: give scheme, host, optional port and path only.*", "base_url",
       "公開URLには、方式・ホスト名・（必要なら）ポート番号とパスだけを書いてください（? や # 以降、利用者名は使えません）。"),
    _e(r"--base-url: .*", "base_url",
       "公開URLとして使えません（例: https://kyogikai.example.lg.jp、https://example.lg.jp/kyogikai）。"),
]

CONFLICT = M(N_("Someone else changed the same record at the same time. Nothing was saved. Check the latest "
                "content, then send the form again.")).render("ja")
STALE = M(N_("Someone else changed this entry after you opened this page. Nothing was saved. Check the latest "
             "content below, then send the form again (what you entered is kept).")).render("ja")


def translate(message: object) -> tuple[str | None, str]:
    """``(field or None, Japanese text)`` for an application message (an exception, an ``M`` or a text)."""
    if isinstance(message, BaseException):
        message = message.args[0] if len(message.args) == 1 else str(message)
    english = " ".join((message.render("en") if isinstance(message, M) else str(message)).split())
    for pattern, field, ja in APP_MESSAGES:
        m = pattern.match(english)
        if m:
            groups = {k: (v or "") for k, v in m.groupdict().items()}
            groups["hint_ja"] = f"候補: {groups['hint']}" if groups.get("hint") else ""
            return field, ja.format(**groups).strip()
    if isinstance(message, M):
        field = FIELDS.get(english, FIELDS.get(message.template))
        return field, " ".join(message.render("ja", context="console").split())
    return None, english
