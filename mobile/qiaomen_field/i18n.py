"""Words on screen. Chinese by default; English for the odd volunteer or developer.

`tr("key", n=3)` formats with keyword arguments. A missing key shows the key itself, never crashes a screen.
"""

from __future__ import annotations

LANGUAGES = {"zh": "中文", "en": "English"}

TEXT: dict[str, tuple[str, str]] = {
    "app_title": ("敲门 · 反诈走访", "Qiaomen field"),
    "sign_in": ("登录", "Sign in"),
    "server": ("服务器地址", "Server"),
    "username": ("用户名", "User name"),
    "password": ("密码", "Password"),
    "signing_in": ("正在登录…", "Signing in…"),
    "sign_in_failed": ("登录失败：{error}", "Sign-in failed: {error}"),
    "sign_in_offline": ("连不上服务器，请检查网络和服务器地址后重试", "Cannot reach the server: check the network "
                        "and the server address, then try again"),
    "today": ("今日任务", "Today"),
    "open_rounds": ("进行中的轮次", "Open rounds"),
    "my_cells": ("我的网格", "My cells"),
    "no_cells": ("还没有分配网格。联网后点“同步”。", "No cells yet. Tap Sync when online."),
    "pending_uploads": ("待上传 {n} 条", "{n} waiting to upload"),
    "all_uploaded": ("全部已上传", "Everything uploaded"),
    "progress": ("已访 {done}/{total}", "Visited {done}/{total}"),
    "round_label": ("第{number}轮 {name}", "Round {number} {name}"),
    "walk_list": ("走访名单", "Walk list"),
    "filter_all": ("全部", "All"),
    "filter_not_visited": ("未访", "Not visited"),
    "filter_revisit": ("需再访", "Revisit"),
    "filter_done": ("已完成", "Done"),
    "search_hint": ("搜索楼栋或房号", "Search building or room"),
    "households_n": ("{n} 户", "{n} households"),
    "map": ("地图", "Map"),
    "me": ("我的位置", "Me"),
    "household": ("住户", "Household"),
    "residents": ("居民 {n} 人", "{n} residents"),
    "earlier_visits": ("本次行动的走访记录", "Earlier visits in this campaign"),
    "no_visits": ("还没有走访记录", "No visits yet"),
    "new_visit": ("记录走访", "Log a visit"),
    "visit": ("走访记录", "Visit"),
    "leaflet": ("发放宣传资料", "Leaflet given"),
    "app_installed": ("安装国家反诈中心APP", "Anti-fraud app installed"),
    "hotline_explained": ("讲解96110热线", "96110 hotline explained"),
    "residents_met": ("见面人数", "Residents met"),
    "key_groups_met": ("见到的重点人群", "Key groups met"),
    "note": ("备注（风险情况）", "Note (risk)"),
    "save_hint": ("点结果按钮即保存", "Tap an outcome to save"),
    "saved": ("已保存（{outcome}），联网后自动上传", "Saved ({outcome}); uploads when online"),
    "saved_no_fix": ("已保存，但没有定位：已记录最近一次位置 {age} 前 ±{acc} 米",
                     "Saved without a current fix: kept the last known one ({age} old, ±{acc} m)"),
    "saved_never_fix": ("已保存，但手机从未定位成功，走访没有位置", "Saved, but this phone never got a fix: "
                        "the visit has no position"),
    "gps_ok": ("定位 ±{acc} 米 · {age} 前", "GPS ±{acc} m · {age} ago"),
    "gps_stale": ("定位已过时：±{acc} 米 · {age} 前", "GPS stale: ±{acc} m · {age} ago"),
    "gps_none": ("正在定位…（不影响保存）", "Waiting for GPS… (saving still works)"),
    "gps_denied": ("没有定位权限：请在系统设置里允许", "No location permission: allow it in system settings"),
    "sync": ("同步", "Sync"),
    "sync_now": ("立即同步", "Sync now"),
    "last_sync": ("上次同步：{when}", "Last sync: {when}"),
    "never": ("从未", "never"),
    "syncing": ("正在同步…", "Syncing…"),
    "sync_done": ("同步完成：上传 {pushed} 条，拒收 {rejected} 条", "Synced: {pushed} sent, {rejected} rejected"),
    "sync_offline": ("连不上服务器，{s} 秒后自动重试", "Server unreachable, retrying in {s} s"),
    "sync_server_error": ("{message}（{s} 秒后自动重试）", "{message} (retrying in {s} s)"),
    "rejected_items": ("被拒收的记录", "Rejected items"),
    "retry": ("重新上传", "Retry"),
    "no_rejected": ("没有被拒收的记录", "Nothing rejected"),
    "settings": ("设置", "Settings"),
    "language": ("语言", "Language"),
    "location_source": ("定位来源", "Location source"),
    "loc_auto": ("手机GPS", "Phone GPS"),
    "loc_track": ("轨迹回放", "Replay track"),
    "loc_fixed": ("固定点", "Fixed point"),
    "sign_out": ("退出登录（清除本机数据）", "Sign out (wipes local data)"),
    "sign_out_pending": ("还有 {n} 条未上传！再点一次确认清除", "{n} not uploaded! Tap again to wipe anyway"),
    "revoked": ("此手机的访问已被管理员停用，本机数据已清除", "This phone was revoked: local data wiped"),
    "status_pending": ("待上传", "waiting"),
    "status_accepted": ("已上传", "uploaded"),
    "status_duplicate": ("已上传", "uploaded"),
    "status_rejected": ("被拒收", "rejected"),
    "report_wrong_location": ("位置有误：用我现在的位置更正", "Wrong location: use where I am"),
    "report_demolished": ("报告：已拆除", "Report: demolished"),
    "report_saved": ("报告已保存，联网后上传", "Report saved; uploads when online"),
    "report_needs_fix": ("还没有定位，无法更正位置", "No GPS fix yet: cannot correct the location"),
    "kind_household_reports": ("住户报告", "Household report"),
    "kind_claims": ("认领网格", "Cell claim"),
    "server_record": ("服务器记录：{state}（{n} 次走访）", "On the server: {state} ({n} visits)"),
    "back": ("返回", "Back"),
    "state_": ("未访", "Not visited"),
    "min": ("{n} 分钟", "{n} min"),
    "sec": ("{n} 秒", "{n} s"),
    "hour": ("{n} 小时", "{n} h"),
    "demo_hint": ("演示账号 demo-worker / qiaomen-demo", "Demo: demo-worker / qiaomen-demo"),
}

_language = "zh"


def set_language(code: str) -> None:
    global _language
    _language = code if code in LANGUAGES else "zh"


def language() -> str:
    return _language


def tr(key: str, **kw) -> str:
    pair = TEXT.get(key)
    if pair is None:
        return key
    text = pair[1] if _language == "en" else pair[0]
    try:
        return text.format(**kw)
    except (KeyError, IndexError, ValueError):
        return text


def sync_failed(payload: dict) -> str:
    """The sync status after a failed attempt: the server's own message when it answered with an error (a 503 says
    its database is down), else "cannot reach the server"; with the wait before the next attempt."""
    seconds = int(payload.get("retry_in") or 0)
    if (payload.get("status") or 0) >= 500 and payload.get("error"):
        return tr("sync_server_error", message=payload["error"], s=seconds)
    return tr("sync_offline", s=seconds)


def label(record: dict, zh_key: str = "label", en_key: str = "label_en") -> str:
    """A server label in the current language (server records carry both)."""
    if _language == "en" and record.get(en_key):
        return str(record[en_key])
    return str(record.get(zh_key) or record.get("code") or "")


def duration(seconds: float) -> str:
    seconds = int(max(0, seconds))
    if seconds < 90:
        return tr("sec", n=seconds)
    if seconds < 5400:
        return tr("min", n=seconds // 60)
    return tr("hour", n=seconds // 3600)
