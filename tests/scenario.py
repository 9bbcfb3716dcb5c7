"""The FY2023 organisation and the meetings of 総会, 運営委員会 and 幹事会, logged through the CLI."""

from __future__ import annotations

ORGANISATION = [
    ("programme", "create", "あいち電子申請・届出システムの運用", "--section", "all", "--order", "1"),
    ("programme", "create", "共同セキュリティ監査", "--section", "all", "--order", "2"),
    ("programme", "create", "会議運営", "--section", "all", "--order", "8"),
    ("programme", "create", "あいち共同利用型施設予約システム事業", "--section", "participating", "--order", "1"),
    ("body", "create", "総会", "--programme", "会議運営", "--kind", "general_assembly"),
    ("body", "create", "運営委員会", "--programme", "会議運営", "--kind", "steering_committee"),
    ("body", "create", "幹事会", "--programme", "会議運営", "--kind", "board"),
    ("body", "create", "個人情報等保護委員会", "--programme", "会議運営", "--kind", "committee"),
    ("body", "create", "研究会", "--programme", "会議運営", "--kind", "study_group"),
    ("body", "create", "電子申請・届出システム研究会", "--parent", "研究会", "--kind", "study_group"),
    ("body", "create", "情報セキュリティ研究会", "--parent", "研究会", "--kind", "study_group"),
    ("body", "create", "セキュリティ監査グループ", "--parent", "情報セキュリティ研究会", "--kind", "group"),
    ("body", "create", "セキュリティポリシーグループ", "--parent", "情報セキュリティ研究会", "--kind", "group"),
    ("body", "create", "事業部会", "--programme", "あいち共同利用型施設予約システム事業", "--kind", "subcommittee"),
    ("body", "create", "検討会", "--programme", "あいち共同利用型施設予約システム事業", "--kind", "review_meeting"),
]

MEETINGS = [
    ("meeting", "schedule", "--body", "総会", "--ordinal", "1", "--title", "定期総会", "--date", "令和5年6月2日",
     "--format", "Web 会議", "--agenda", "令和4年度事業報告", "--agenda", "令和4年度収支決算及び監査報告"),
    ("meeting", "schedule", "--body", "総会", "--ordinal", "2", "--title", "定期総会", "--date", "令和6年3月22日",
     "--format", "web"),
    ("meeting", "schedule", "--body", "運営委員会", "--ordinal", "1", "--date", "令和5年10月25日", "--format", "web会議"),
    ("meeting", "schedule", "--body", "幹事会", "--ordinal", "1", "--date", "令和5年5月24日", "--format", "Web会議"),
    ("meeting", "schedule", "--body", "幹事会", "--ordinal", "2", "--date", "令和5年10月11日", "--format", "Web会議"),
    ("meeting", "schedule", "--body", "幹事会", "--ordinal", "3", "--date", "令和6年3月1日", "--format", "Web会議"),
    ("meeting", "schedule", "--body", "幹事会", "--ordinal", "4", "--date", "令和6年3月15日", "--format", "書面開催"),
]


def run_scenario(cli) -> dict[str, str]:
    """Log the scenario; returns ids by label. 第2回幹事会 is rescheduled, 第4回幹事会 cancelled."""
    for cmd in ORGANISATION:
        cli(*cmd)
    for cmd in MEETINGS:
        cli(*cmd)
    ids = {m["label"]: m["id"] for m in cli("meetings", "--json").json()}
    cli("meeting", "reschedule", ids["第2回幹事会"][:8], "--date", "令和5年10月18日", actor="事務局B")
    cli("meeting", "cancel", ids["第4回幹事会"][:8], "--reason", "議題なしのため", actor="事務局B")
    return ids
