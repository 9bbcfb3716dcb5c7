"""Japanese for the application's English error messages, in one place.

Decision: the application's :class:`UserError` / :class:`DomainError` messages are English one-liners
(the CLI prints them; gettext catalogues are planned in another issue).  Until then the console shows
them through this table: each entry is a regular expression matched against the whole message, the
form field it belongs to (or ``None`` for the form as a whole) and a Japanese template that may use
the expression's named groups.  The table is kept small and honest — the messages a clerk meets
while working through the console forms.  **An unknown message is shown as it is**, in English,
never guessed at.  Field errors of the console's own parsing (dates, times, formats, numbers) are
written in Japanese where the field is parsed (:mod:`kyogikai.web.console.forms`) and do not go
through this table.
"""

from __future__ import annotations

import re

from ...i18n import M

Entry = tuple[re.Pattern[str], str | None, str]


def _e(pattern: str, field: str | None, ja: str) -> Entry:
    return re.compile(pattern + r"\Z", re.S), field, ja


TABLE: list[Entry] = [
    _e(r"unknown body '(?P<name>.*)'(?: \(did you mean (?P<hint>.*)\?\))?", "body",
       "会議体「{name}」が見つかりません。{hint_ja}"),
    _e(r"body '(?P<name>.*)' is ambiguous: (?P<n>\d+) bodies fit — (?P<cands>.*)", "body",
       "会議体「{name}」に当てはまるものが{n}件あります。「上位の会議体/会議体名」の形で指定してください（候補: {cands}）。"),
    _e(r"body: name is empty", "body", "会議体を入力してください。"),
    _e(r"duplicate ordinal: (?P<label>.*?) in (?P<fy>\S+) already exists \(meeting (?P<id>[0-9a-f]+)\)", "ordinal",
       "{label}（{fy}）はすでに登録されています（会議ID {id}）。回数を確認してください。"),
    _e(r"body (?P<name>.*) is dissolved .*", "body", "この会議体は廃止されています。"),
    _e(r"cannot (?P<doing>.+?): the (?P<kind>\w+) was cancelled", None,
       "中止された予定は変更できません。先に「中止の取消し」をしてください。"),
    _e(r"cannot reschedule: it was already held.*", None,
       "開催済みの予定は日程変更できません。実際の開催日は「開催を記録」で入力してください。"),
    _e(r"the new date is the same as the current one", "date", "現在の日程と同じです。"),
    _e(r"nothing to change: the details are the same", None, "変更点がありません。"),
    _e(r"cannot cancel: it was already held", None, "開催済みの予定は中止にできません。"),
    _e(r"cannot reinstate: it is not cancelled", None, "中止されていない予定です。"),
    _e(r"it is already recorded as held", None, "すでに開催済みとして記録されています。"),
    _e(r"agenda item is empty", "agenda", "議題を入力してください。"),
    _e(r"agenda item '(?P<text>.*)' is already on the agenda", "agenda", "議題「{text}」はすでに登録されています。"),
    _e(r"agenda: (?:a meeting has )?at most (?P<n>\d+) items.*", "agenda", "議題は{n}件までです。"),
    _e(r"agenda item '(?P<ref>.*)' not found: give its number \(1\.\.(?P<n>\d+)\) or its text", "item",
       "議題「{ref}」が見つかりません。番号（1～{n}）か議題の文言で指定してください。"),
    _e(r"outcome is empty", "outcome", "結果を入力してください。"),
    _e(r"the agenda item was withdrawn", "item", "取り下げられた議題です。"),
    _e(r"attendance is already recorded as (?P<a>\w+)", None, "同じ出欠がすでに記録されています。"),
    _e(r"start/end times need a single-day date, not a period", "start_time", "時刻は1日だけの日程に指定できます。"),
    _e(r"an end time needs a start time", "end_time", "終了時刻には開始時刻も入力してください。"),
    _e(r"end time (?P<e>\S+) is not after start time (?P<s>\S+)", "end_time",
       "終了時刻（{e}）が開始時刻（{s}）より後になっていません。"),
    _e(r"a part \(第N部\) needs a series or a title", "part", "第N部にはシリーズ名か名称が必要です。"),
    _e(r"a (?P<kind>\w+) refers to an earlier meeting \(--refers-to\)", "refers_to", "対象となる以前の会議のIDを入力してください。"),
    _e(r"the referred meeting belongs to another body", "refers_to", "対象の会議は別の会議体のものです。"),
    _e(r"the referred meeting is later than this one", "refers_to", "対象の会議がこの会議より後の日付です。"),
    _e(r"(?P<what>[\w ]+) is longer than (?P<n>\d+) characters", None, "入力が長すぎます（{n}文字まで）。"),
    _e(r"(?P<where>\w+): the text contains the control character (?P<cp>U\+[0-9A-F]+); remove it", None,
       "入力に制御文字（{cp}）が含まれています。取り除いてください。"),
    _e(r"no meeting with id '(?P<id>.*)'", None, "会議ID「{id}」の予定はありません。"),
    _e(r"unknown member '(?P<name>.*)'(?: \(did you mean (?P<hint>.*)\?\))?", "member",
       "会員団体「{name}」が見つかりません。{hint_ja}"),
    _e(r"the narrative is unchanged", "text", "文章に変更がありません。"),
    _e(r"a narrative paragraph is longer than (?P<n>\d+) characters", "text", "1つの段落は{n}文字までです。"),
    _e(r"a narrative has at most (?P<n>\d+) paragraphs, not (?P<m>\d+)", "text", "段落は{n}個までです（{m}個あります）。"),
    _e(r"unknown programme '(?P<name>.*)'(?: \(did you mean (?P<hint>.*)\?\))?", "programme",
       "事業「{name}」が見つかりません。{hint_ja}"),
    _e(r"token (?P<id>[0-9a-f]+) is already revoked", None, "このURLはすでに無効です。"),
    _e(r"member: '(?P<name>.*)' was dissolved on (?P<on>\S+)", "member", "会員団体「{name}」は{on}に解散しています。"),
    _e(r"label: at most (?P<n>\d+) characters", "label", "{n}文字までにしてください。"),
    _e(r"a lecture needs a speaker organisation \(--speaker\)", "speaker", "講演には講師の団体を入力してください。"),
    _e(r"drill results belong to a drill", None, "訓練結果は訓練にだけ記録できます。"),
    _e(r"links opened \((?P<o>\d+)\) exceed mails sent \((?P<s>\d+)\)", "links_opened",
       "リンクを開いた数（{o}）が送信数（{s}）を超えています。"),
    _e(r"body: give --body \(or --programme for an activity\)", "programme", "事業（または会議体）を入力してください。"),
    _e(r"body '(?P<b>.*)' is not in programme '(?P<p>.*)'", "body", "会議体「{b}」は事業「{p}」に属していません。"),
    # answers (出欠回答) and written votes (書面表決) recorded by a clerk (answers.py, domain/answers.py)
    _e(r"member: not on the body's roster at the meeting's date; only its members answer", "member",
       "この会員団体は、会議の日にこの会議体の構成団体ではないため、回答・表決を記録できません。"),
    _e(r"--member: give the member organisation", "member", "会員団体を入力してください。"),
    _e(r"the meeting was cancelled; it takes no answers", None, "この会議は中止されたため、回答・表決を記録できません。"),
    _e(r"the meeting is recorded as held; it takes no answers", None, "この会議は開催済みのため、回答・表決を記録できません。"),
    _e(r"the meeting has begun or is past; it takes no answers", None,
       "この会議は開催日を過ぎたため、回答・表決を記録できません。"),
    _e(r"answers: a (?P<kind>\w+) takes no answers \(only meetings of a body do\)", None,
       "この行事は出欠回答・書面表決の対象ではありません（会議体の会議だけが対象です）。"),
    _e(r"answer: the meeting is held in writing; members vote on its items \(meeting vote\)", "answer",
       "書面開催の会議です。出欠ではなく、議案ごとの表決を記録してください。"),
    _e(r"--answer: '(?P<v>.*)' is not one of .*", "answer", "出欠（出席・代理出席・欠席）を選択してください。"),
    _e(r"proxy: give the name of who attends on the member's behalf", "proxy",
       "代理出席の場合は、代理出席者の氏名を入力してください。"),
    _e(r"proxy: only with the answer proxy", "proxy", "代理出席者は「代理出席」のときだけ入力してください。"),
    _e(r"proxy: at most (?P<n>\d+) characters", "proxy", "代理出席者は{n}文字以内で入力してください。"),
    _e(r"comment: at most (?P<n>\d+) characters", "comment", "連絡事項は{n}文字以内で入力してください。"),
    _e(r"vote: the meeting is not held in writing; votes are for written deliberations", "vote",
       "この会議は書面開催ではないため、書面表決は記録できません。"),
    _e(r"--vote: '(?P<v>.*)' is not one of .*", "vote", "賛否（賛成・反対・棄権）を選択してください。"),
    _e(r"--item: no agenda item (?P<n>.*); the items are numbered 1\.\.(?P<m>\d+)", "item",
       "議案{n}はありません（議案は1～{m}です）。"),
    _e(r"--item: the meeting has no agenda items", "item", "この会議には議案がありません。先に議題を追加してください。"),
    # organisation
    _e(r"programme '(?P<name>.*)' already exists", "name", "事業「{name}」はすでにあります。"),
    _e(r"body '(?P<name>.*)' already exists there", "name", "そこにはすでに会議体「{name}」があります。"),
    _e(r"member '(?P<name>.*)' already exists", "name", "会員団体「{name}」はすでに登録されています。"),
    _e(r"(?P<what>programme|body|member) is already named '(?P<name>.*)'", "new_name", "すでに「{name}」という名称です。"),
    _e(r"(?P<what>programme|body|member) '(?P<name>.*)' was dissolved on (?P<on>\S+)", None,
       "「{name}」は{on}に廃止（解散）されています。"),
    _e(r"(?P<what>[\w/]+): name is empty", "name", "名前を入力してください。"),
    _e(r"(?P<what>[\w/]+): name is longer than (?P<n>\d+) characters", "name", "名前は{n}文字までです。"),
    _e(r"member is already in since (?P<since>\S+)", "member", "この会員団体は{since}から名簿に入っています。"),
    _e(r"join date (?P<a>\S+) is not after the last leave (?P<b>\S+)", "since", "加入日（{a}）が前回の最終日（{b}）より後になっていません。"),
    _e(r"member is not in", "member", "この会員団体は名簿に入っていません。"),
    _e(r"leave date (?P<a>\S+) is before the join date (?P<b>\S+)", "since", "最終日（{a}）が加入日（{b}）より前です。"),
    _e(r"local government code '(?P<code>.*)' must be 6 digits.*", "code", "団体コードは6桁（または5桁）の数字です。"),
    _e(r"local government code '(?P<code>.*)' has a wrong check digit.*", "code", "団体コード「{code}」の検査数字が合いません。"),
    _e(r"parent body '(?P<name>.*)' belongs to another programme", "parent", "上位の会議体「{name}」は別の事業に属しています。"),
    _e(r"body '(?P<name>.*)': bodies nest at most four deep", "parent", "会議体は4階層までです。"),
    _e(r"body '(?P<name>.*)' is already (?P<v>public|non-public)", "visibility", "すでにその公開範囲です。"),
    _e(r"programme '(?P<name>.*)' is an all-member programme: every member takes part", "member",
       "「{name}」は全団体事業なので、すべての会員団体が参加しています（名簿はありません）。"),
    _e(r"description is longer than (?P<n>\d+) characters.*", "description", "説明は{n}文字までです。"),
    # lines of a past report the importer cannot place (report/parse.py)
    _e(r"a bullet with nothing after it", None, "「・」の後に何もありません"),
    _e(r"a split entry that cannot be read", None, "2行に分かれた項目を読み取れません"),
    _e(r"not a heading, paragraph, entry or agenda item", None, "見出し・文章・項目・議題のどれにも当たりません"),
    _e(r"〔審議事項〕 without a preceding entry", None, "〔審議事項〕の前に項目がありません"),
    _e(r"paragraph outside any programme", None, "どの事業にも属さない文章です"),
    _e(r"entry outside any programme", None, "どの事業にも属さない項目です"),
    _e(r"entry date: (?P<e>.*)", None, "項目の日付を読み取れません（{e}）"),
    _e(r"title: (?P<e>.*)", None, "表題を読み取れません（{e}）"),
    _e(r"no title line \(令和N年度事業報告\).*", None, "表題の行（令和N年度事業報告）がありません。年度を入力してください"),
    _e(r"the file holds no report: .*", None, "報告の内容（1 全団体事業 など）が見つかりません。何も取り込んでいません。"),
    # council settings (the options of ``council set``, beside the settings form's fields)
    _e(r"--name: is empty", "name", "協議会の名称を入力してください。"),
    _e(r"--name: the council has no name yet; give --name", "name", "協議会の名称を入力してください。"),
    _e(r"--name: longer than (?P<n>\d+) characters.*", "name", "名称は{n}文字までです。"),
    _e(r"--short: is empty", "short_name", "略称を入力してください。"),
    _e(r"--short: longer than (?P<n>\d+) characters.*", "short_name", "略称は{n}文字までです。"),
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
    _e(r"--document-font: .*", "document_font", "文書の書体は「游明朝・游ゴシック」か「ＭＳ 明朝・ＭＳ ゴシック」を選んでください。"),
    # accounts
    _e(r"user name: empty", "username", "ログイン名を入力してください。"),
    _e(r"user name: at most (?P<n>\d+) characters", "username", "ログイン名は{n}文字までです。"),
    _e(r"user name: no spaces or control characters", "username", "ログイン名に空白や制御文字は使えません。"),
    _e(r"user '(?P<name>.*)' already exists( \(disabled\))?", "username", "ログイン名「{name}」はすでに使われています。"),
    _e(r"no user '(?P<name>.*)'", "username", "ログイン名「{name}」の利用者はいません。"),
    _e(r"user '(?P<name>.*)' is disabled", "username", "利用者「{name}」は無効にされています。"),
    _e(r"user '(?P<name>.*)' already has the role (?P<role>\w+)", "role", "利用者「{name}」はすでにその権限です。"),
    _e(r"user '(?P<name>.*)' is the last admin; make another admin first", "role",
       "「{name}」は最後の管理者です。先に別の管理者を作ってください。"),
    _e(r"role: '(?P<role>.*)' is not one of clerk, admin", "role", "権限は「担当者」か「管理者」を選んでください。"),
    _e(r"password: at least (?P<n>\d+) characters", "password", "パスワードは{n}文字以上にしてください。"),
    _e(r"password: at most (?P<n>\d+) characters", "password", "パスワードは{n}文字までです。"),
    _e(r"password: no control characters", "password", "パスワードに制御文字は使えません。"),
    _e(r"current password: wrong", "current_password", "現在のパスワードが違います。"),
    _e(r"current password: too many failed attempts.*", "current_password",
       "現在のパスワードの誤りが続いたため、しばらく変更できません。15分ほど待ってからお試しください。"),
]

CONFLICT = ("ほかの人が同じ記録を同時に変更しました。何も保存されていません。"
            "最新の内容を確認してから、もう一度送信してください。")
STALE = ("このページを開いた後に、ほかの人がこの予定を変更しました。何も保存されていません。"
         "下の最新の内容を確認してから、もう一度送信してください（入力した内容は残してあります）。")


def translate(message: object) -> tuple[str | None, str]:
    """``(field or None, Japanese text)`` for an application message (a text, an :class:`M` or an error
    carrying one; matched on its English whatever the server's language); unknown ones come back as
    they are."""
    source = message.args[0] if isinstance(message, BaseException) and message.args else message
    english = source.render("en") if isinstance(source, M) else str(message)
    text = " ".join(english.split())
    for pattern, field, ja in TABLE:
        m = pattern.match(text)
        if m:
            groups = {k: (v or "") for k, v in m.groupdict().items()}
            groups["hint_ja"] = f"候補: {groups['hint']}" if groups.get("hint") else ""
            return field, ja.format(**groups).strip()
    return None, " ".join(str(message).split())
