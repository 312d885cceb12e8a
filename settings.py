"""Configuration: one TOML file loaded into typed objects and validated.

Every problem is reported with the key path that holds it
(`categories.litter.group: "urbn" is not a group; groups are ...`), all at
once, so an engineer can fix a config in one pass.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import os
import re
import tomllib
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from reports.areas import Areas, load_areas
from reports.deadlines import Limits
from reports.faq import DEFAULT_MIN_SCORE, FaqEntry, FaqError, load_faq_dir
from reports.keywords import KeywordFileError, KeywordTable, parse_keyword_file
from reports.problems import ConfigError

FALLBACK_CATEGORY = "other"
DEFAULT_CONFIG = Path(__file__).resolve().parent / "config.toml"
# The WeChat template messages the code sends, by the name [wechat.templates] gives
# each its template id under; a name the code does not know is a typo.
WECHAT_TEMPLATE_KEYS = ("case_update",)
# WeChat's limits on the custom menu (自定义菜单): 1-3 buttons, each 1-5 sub-buttons;
# names in UTF-8 bytes (a Chinese character is 3), a click key at most 128 bytes.
MENU_BUTTONS_MAX = 3
MENU_SUB_BUTTONS_MAX = 5
MENU_NAME_BYTES = 16
MENU_SUB_NAME_BYTES = 60
MENU_KEY_BYTES = 128
_WECHAT_SECRETS = {"token", "app_secret", "encoding_aes_key"}  # from the environment only
_WECOM_SECRETS = {"secret", "token", "encoding_aes_key"}  # likewise, as WECOM_<NAME>
_TELEGRAM_SECRETS = {"webhook_secret"}  # likewise, as TELEGRAM_WEBHOOK_SECRET
_WECOM_GROUP_FIELDS = ("wecom_party", "wecom_tag", "wecom_users", "wecom_robot_key")
# The Bot API's rules for a webhook: the ports it posts to, and the secret token's form.
WEBHOOK_PORTS = (443, 80, 88, 8443)
WEBHOOK_SECRET_MAX = 256
_WEBHOOK_SECRET_RE = re.compile(rf"[A-Za-z0-9_-]{{1,{WEBHOOK_SECRET_MAX}}}")
WECOM_ID_MAX = 2**31 - 1  # agent, department and tag ids are 32-bit integers


@dataclass(frozen=True)
class Group:
    key: str
    name: str
    chat_id: int  # 0 until the group chat is bound
    # WeCom: who gets the group's alerts through the app (any of the three), and the
    # group chat's robot (its webhook key; WECOM_ROBOT_<KEY> in the environment wins).
    wecom_party: int | None = None  # a department id
    wecom_tag: int | None = None  # a tag id
    wecom_users: tuple[str, ...] = ()  # userids
    wecom_robot_key: str | None = field(default=None, repr=False)

    @property
    def on_wecom(self) -> bool:
        """Whether the group's alerts go to WeCom (it names a party, a tag or users)."""
        return self.wecom_party is not None or self.wecom_tag is not None or bool(self.wecom_users)


@dataclass(frozen=True)
class Roles:
    """Which working group plays each role; the defaults are the district plan's."""

    escalation: str = "supervision"  # overdue cases escalate here (督导组)
    weekly_report: str = "office"  # gets the weekly report (办公室)
    notices: str = "office"  # is told of a message refused for good (办公室)
    praise: str = "publicity"  # selects the 身边好人 residents recommend (宣传教育组)
    # may see the survey's reasons for not supporting (宣传教育组); "" when unset and
    # the default group is not configured: then only the admins do.
    survey_reasons: str = "publicity"


# Roles a district may leave without a group when their default group is not configured.
OPTIONAL_ROLES = frozenset({"survey_reasons"})


@dataclass(frozen=True)
class Category:
    key: str
    name: str
    group: str
    behaviour: bool  # a behaviour can be negated ("没人乱扔垃圾了"); a broken thing cannot
    keywords: KeywordTable
    accept_hours: float | None = None  # None: [reports] accept_hours
    resolve_hours: float | None = None


@dataclass(frozen=True)
class TelegramSettings:
    base_url: str | None = None
    base_file_url: str | None = None
    poll_timeout: int = 30
    # What the bot sends is paced under Telegram's limits (about 30/s overall,
    # 1/s in one chat, 20/min in one group) and retried after a 429.
    send_rate: float = 25.0  # messages a second, all chats together
    chat_rate: float = 1.0  # messages a second to one private chat
    group_per_minute: int = 20  # messages a minute to one group chat
    send_retries: int = 3  # a reply answered 429 is sent again after retry_after
    concurrent_updates: int = 16  # updates handled at once (one per chat at a time)
    # Updates by webhook instead of long polling when webhook_url is set: Telegram posts
    # to that public HTTPS URL, a reverse proxy forwards to the local server below.
    webhook_url: str | None = None
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = 8082
    webhook_path: str = "/"  # the local server's path; by default webhook_url's
    # TELEGRAM_WEBHOOK_SECRET: Telegram sends it with every post, the server refuses others.
    webhook_secret: str = field(default="", repr=False)

    @property
    def by_webhook(self) -> bool:
        """Whether updates come by webhook (else by long polling)."""
        return self.webhook_url is not None


@dataclass(frozen=True)
class ReportSettings:
    max_per_hour: int = 10
    max_text_chars: int = 1000
    max_note_chars: int = 300
    max_photos: int = 10
    draft_minutes: int = 60
    min_confidence: float = 0.45
    member_cache_seconds: int = 60
    accept_hours: float = 24.0
    resolve_hours: float = 72.0
    escalate_after_hours: float = 24.0
    overdue_check_seconds: float = 300.0
    digest_time: str = "08:30"
    duplicate_radius_m: float = 100.0
    duplicate_hours: float = 72.0
    reopen_days: float = 7.0
    close_after_days: float = 7.0
    flood_messages: int = 20  # messages one resident may send within flood_seconds ...
    flood_seconds: int = 60  # ... beyond that they are told once and not processed
    spam_limit: int = 3  # spam messages one account may send within spam_window_hours ...
    spam_window_hours: float = 24.0  # ... beyond that nothing but its reports is answered
    map_url: str = "https://uri.amap.com/marker?position={lon},{lat}"


@dataclass(frozen=True)
class OutboxSettings:
    retry_base_seconds: float = 2.0
    retry_max_seconds: float = 300.0
    idle_poll_seconds: float = 5.0
    concurrency: int = 4
    send_timeout_seconds: float = 30.0


@dataclass(frozen=True)
class MenuButton:
    """A button of the account's custom menu: a click key, or sub-buttons (not both)."""

    name: str
    key: str | None = None
    sub_buttons: tuple[MenuButton, ...] = ()


@dataclass(frozen=True)
class WeChatSettings:
    """The Official Account channel; the secrets come from the environment only."""

    app_id: str
    token: str = field(repr=False)  # WECHAT_TOKEN: signs every callback
    app_secret: str = field(repr=False)  # WECHAT_APP_SECRET: gets the access token
    encoding_aes_key: str | None = field(default=None, repr=False)  # None: plaintext only
    api_base_url: str = "https://api.weixin.qq.com"
    host: str = "127.0.0.1"  # the callback server; a reverse proxy terminates TLS
    port: int = 8081
    path: str = "/wechat"
    plaintext: bool = False  # accept unencrypted callbacks (明文模式/兼容模式)
    reply_budget_seconds: float = 4.0  # WeChat waits 5 s for a passive reply
    templates: dict[str, str] = field(default_factory=dict)
    menu: tuple[MenuButton, ...] = ()


@dataclass(frozen=True)
class WeComSettings:
    """The working groups' WeCom app (自建应用); the secrets come from the environment only."""

    corp_id: str
    agent_id: int
    secret: str = field(repr=False)  # WECOM_SECRET: the app's Secret, for the access token
    token: str = field(repr=False)  # WECOM_TOKEN: signs every callback
    encoding_aes_key: str = field(repr=False)  # WECOM_ENCODING_AES_KEY: WeCom always encrypts
    api_base_url: str = "https://qyapi.weixin.qq.com"
    host: str = "127.0.0.1"  # the callback server; a reverse proxy terminates TLS
    port: int = 8083
    path: str = "/wecom"
    reply_budget_seconds: float = 4.0  # WeCom waits 5 s for a passive reply
    note_minutes: int = 10  # a member's next text is the note asked for, this long
    admins: tuple[str, ...] = ()  # the office's admins, by WeCom userid


@dataclass(frozen=True)
class FaqSettings:
    """Residents' questions: the office's answers (read from `dir`) and how sure a match must be."""

    dir: Path | None = None  # None: no knowledge base, every question goes unanswered
    min_score: float = DEFAULT_MIN_SCORE
    entries: tuple[FaqEntry, ...] = ()


@dataclass(frozen=True)
class Settings:
    admins: frozenset[int]
    groups: dict[str, Group]
    categories: dict[str, Category]
    negations: tuple[str, ...]
    storage_path: Path
    # [storage] url or DATABASE_URL: a postgresql:// URL selects PostgreSQL; None, SQLite.
    storage_url: str | None = None
    retention_days: float = 30.0  # closed drafts and delivered outbox rows kept this long
    # How long a process may go silent before the others take over the updates it took
    # in and the outbox items it claimed (it died). Its heartbeat comes every third of it.
    takeover_seconds: float = 30.0
    examples_dir: Path | None = None  # labelled messages the classifier learns from
    model_weight: float = 4.0
    model_temperature: float = 4.0
    telegram: TelegramSettings = field(default_factory=TelegramSettings)
    reports: ReportSettings = field(default_factory=ReportSettings)
    outbox: OutboxSettings = field(default_factory=OutboxSettings)
    timezone: str = "Asia/Shanghai"
    source: Path | None = None
    stats_font_file: str | None = None  # a CJK font for charts, if none is installed
    weekly_day: int = 1  # 1 = Monday … 7 = Sunday
    weekly_time: str = "09:00"
    quiz_bank_dir: Path | None = None
    quiz_round_size: int = 5
    quiz_open_period: int = 30
    quiz_daily_time: str = "09:00"
    quiz_push_rate: float = 25.0
    survey_every_days: float = 30.0
    demo_port: int = 8080  # the demo's web chat, on 127.0.0.1
    roles: Roles = field(default_factory=Roles)
    wechat: WeChatSettings | None = None  # None: no [wechat] table, Telegram only
    wecom: WeComSettings | None = None  # None: no [wecom] table, no group on WeCom
    faq: FaqSettings = field(default_factory=FaqSettings)
    # [areas]: the district's communities, villages and road sections (none: no file).
    areas: Areas = field(default_factory=Areas)
    areas_min_cases: int = 5  # an area is ranked in /stats from this many cases

    @property
    def group_keys(self) -> tuple[str, ...]:
        """The working groups' keys, in the order the config writes them."""
        return tuple(self.groups)

    def limits(self, category_key: str) -> Limits:
        """The deadlines of a category: its own, else the defaults in [reports]."""
        category = self.categories[category_key]
        return Limits(
            accept_hours=category.accept_hours or self.reports.accept_hours,
            resolve_hours=category.resolve_hours or self.reports.resolve_hours,
            escalate_after_hours=self.reports.escalate_after_hours,
        )


def load_settings(path: Path | str | None = None) -> Settings:
    """Read and validate the config file; raise ConfigError listing every problem."""
    path = Path(path) if path else DEFAULT_CONFIG
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError([f"{path}: config file not found"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"{path}: not valid TOML: {exc}"]) from None
    except UnicodeDecodeError:
        raise ConfigError([f"{path}: not UTF-8 text"]) from None
    return parse_settings(raw, base_dir=path.resolve().parent, source=path)


def parse_settings(
    raw: Mapping[str, Any],
    base_dir: Path,
    source: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Build Settings from an already parsed mapping (testable without files).

    `environ` holds the secrets (os.environ unless given).
    """
    v = _Validator()
    v.unknown_keys(
        raw,
        "",
        {"admins", "timezone", "telegram", "storage", "reports", "outbox", "groups", "roles"}
        | {"categories", "classifier", "quizzes", "survey", "demo", "stats", "wechat", "wecom"}
        | {"faq", "areas"},
    )
    env = os.environ if environ is None else environ
    admins = v.int_list(raw, "admins", default=[])
    timezone = v.string(raw, "timezone", "", default="Asia/Shanghai")
    _check_timezone(v, timezone)

    tg = v.table(raw, "telegram")
    td = TelegramSettings()
    _refuse_secrets_and_unknown_keys(v, tg, "telegram", TelegramSettings, _TELEGRAM_SECRETS)
    telegram = TelegramSettings(
        base_url=v.url(tg, "base_url", "telegram"),
        base_file_url=v.url(tg, "base_file_url", "telegram"),
        poll_timeout=v.integer(tg, "poll_timeout", "telegram", default=30, low=0, high=600),
        send_rate=v.number(tg, "send_rate", "telegram", td.send_rate, 0.1, 1000),
        chat_rate=v.number(tg, "chat_rate", "telegram", td.chat_rate, 0.01, 1000),
        group_per_minute=v.integer(
            tg, "group_per_minute", "telegram", td.group_per_minute, 1, 10000
        ),
        send_retries=v.integer(tg, "send_retries", "telegram", td.send_retries, 0, 10),
        concurrent_updates=v.integer(
            tg, "concurrent_updates", "telegram", td.concurrent_updates, 1, 256
        ),
        **_telegram_webhook(v, tg, env),
    )

    st = v.table(raw, "storage")
    v.unknown_keys(st, "storage", {"path", "url", "retention_days", "takeover_seconds"})
    storage_path = Path(v.string(st, "path", "storage", default="data/civic.db"))
    storage_url = _database_url(v, v.string(st, "url", "storage") or env.get("DATABASE_URL", ""))
    # At least a day: an open draft untouched that long is over (draft_minutes ≤ 1440).
    retention_days = v.number(st, "retention_days", "storage", 30.0, 1.0, 36500)
    takeover_seconds = v.number(st, "takeover_seconds", "storage", 30.0, 0.3, 3600)
    if not storage_path.is_absolute():
        storage_path = base_dir / storage_path

    rp = v.table(raw, "reports")
    defaults = ReportSettings()
    v.unknown_keys(rp, "reports", set(ReportSettings.__dataclass_fields__))
    reports = ReportSettings(
        max_per_hour=v.integer(rp, "max_per_hour", "reports", defaults.max_per_hour, 1, 1000),
        max_text_chars=v.integer(
            rp, "max_text_chars", "reports", defaults.max_text_chars, 50, 3500
        ),
        max_note_chars=v.integer(
            rp, "max_note_chars", "reports", defaults.max_note_chars, 10, 1000
        ),
        max_photos=v.integer(rp, "max_photos", "reports", defaults.max_photos, 1, 10),
        draft_minutes=v.integer(rp, "draft_minutes", "reports", defaults.draft_minutes, 1, 1440),
        min_confidence=v.number(rp, "min_confidence", "reports", defaults.min_confidence, 0.0, 1.0),
        member_cache_seconds=v.integer(
            rp, "member_cache_seconds", "reports", defaults.member_cache_seconds, 0, 86400
        ),
        accept_hours=v.number(rp, "accept_hours", "reports", defaults.accept_hours, 1e-6, 8760),
        resolve_hours=v.number(rp, "resolve_hours", "reports", defaults.resolve_hours, 1e-6, 8760),
        escalate_after_hours=v.number(
            rp, "escalate_after_hours", "reports", defaults.escalate_after_hours, 0.0, 8760
        ),
        overdue_check_seconds=v.number(
            rp, "overdue_check_seconds", "reports", defaults.overdue_check_seconds, 0.01, 86400
        ),
        digest_time=v.string(rp, "digest_time", "reports", default=defaults.digest_time),
        duplicate_radius_m=v.number(
            rp, "duplicate_radius_m", "reports", defaults.duplicate_radius_m, 0.0, 10000
        ),
        duplicate_hours=v.number(
            rp, "duplicate_hours", "reports", defaults.duplicate_hours, 0.0, 8760
        ),
        reopen_days=v.number(rp, "reopen_days", "reports", defaults.reopen_days, 0.0, 365),
        close_after_days=v.number(
            rp, "close_after_days", "reports", defaults.close_after_days, 1e-8, 365
        ),
        flood_messages=v.integer(
            rp, "flood_messages", "reports", defaults.flood_messages, 1, 10000
        ),
        flood_seconds=v.integer(rp, "flood_seconds", "reports", defaults.flood_seconds, 1, 86400),
        spam_limit=v.integer(rp, "spam_limit", "reports", defaults.spam_limit, 1, 1000),
        spam_window_hours=v.number(
            rp, "spam_window_hours", "reports", defaults.spam_window_hours, 0.01, 8760
        ),
        map_url=v.string(rp, "map_url", "reports", default=defaults.map_url),
    )
    if not _is_clock_time(reports.digest_time):
        v.problem("reports.digest_time", f'"{reports.digest_time}" is not a time like "08:30"')
    if "{lat}" not in reports.map_url or "{lon}" not in reports.map_url:
        v.problem("reports.map_url", "must contain {lat} and {lon}")

    ob = v.table(raw, "outbox")
    od = OutboxSettings()
    v.unknown_keys(ob, "outbox", set(OutboxSettings.__dataclass_fields__))
    outbox = OutboxSettings(
        retry_base_seconds=v.number(
            ob, "retry_base_seconds", "outbox", od.retry_base_seconds, 0.001, 3600
        ),
        retry_max_seconds=v.number(
            ob, "retry_max_seconds", "outbox", od.retry_max_seconds, 0.001, 86400
        ),
        idle_poll_seconds=v.number(
            ob, "idle_poll_seconds", "outbox", od.idle_poll_seconds, 0.01, 3600
        ),
        concurrency=v.integer(ob, "concurrency", "outbox", od.concurrency, 1, 64),
        send_timeout_seconds=v.number(
            ob, "send_timeout_seconds", "outbox", od.send_timeout_seconds, 0.1, 600
        ),
    )

    group_table = v.table(raw, "groups")
    groups = _parse_groups(v, group_table, env, wecom="wecom" in raw)
    # A role or category naming a group that is written but broken is reported once,
    # under groups.*, not again under each key that names it.
    written = set(group_table)
    roles = _parse_roles(v, v.table(raw, "roles"), groups, written)
    classifier = v.table(raw, "classifier")
    v.unknown_keys(
        classifier,
        "classifier",
        {"negations_file", "examples_dir", "model_weight", "model_temperature"},
    )
    negations: tuple[str, ...] = ()
    neg_file = v.string(classifier, "negations_file", "classifier", default="")
    if neg_file:
        negations = _read_word_list(v, base_dir / neg_file, "classifier.negations_file")
    examples_dir: Path | None = None
    examples = v.string(classifier, "examples_dir", "classifier", default="")
    if examples:
        examples_dir = base_dir / examples
        if not examples_dir.is_dir():
            v.problem("classifier.examples_dir", f"{examples_dir} is not a folder")
    model_weight = v.number(classifier, "model_weight", "classifier", 4.0, 0.0, 10.0)
    model_temperature = v.number(classifier, "model_temperature", "classifier", 4.0, 0.1, 100.0)
    categories = _parse_categories(v, v.table(raw, "categories"), groups, written, base_dir)
    quiz = v.table(raw, "quizzes")
    v.unknown_keys(
        quiz, "quizzes", {"bank_dir", "round_size", "open_period", "daily_time", "push_rate"}
    )
    daily_time = v.string(quiz, "daily_time", "quizzes", default="09:00")
    if not _is_clock_time(daily_time):
        v.problem("quizzes.daily_time", f'"{daily_time}" is not a time like "09:00"')
    push_rate = v.number(quiz, "push_rate", "quizzes", 25.0, 0.1, 30.0)
    bank = v.string(quiz, "bank_dir", "quizzes", default="quizzes/bank")
    quiz_bank_dir = base_dir / bank
    if not quiz_bank_dir.is_dir():
        v.problem("quizzes.bank_dir", f"{quiz_bank_dir} is not a folder")
    round_size = v.integer(quiz, "round_size", "quizzes", 5, 1, 20)
    open_period = v.integer(quiz, "open_period", "quizzes", 30, 5, 600)
    survey = v.table(raw, "survey")
    v.unknown_keys(survey, "survey", {"every_days"})
    every_days = v.number(survey, "every_days", "survey", 30.0, 1e-6, 366)
    stats_table = v.table(raw, "stats")
    v.unknown_keys(stats_table, "stats", {"font_file", "weekly_day", "weekly_time"})
    font_file = v.string(stats_table, "font_file", "stats", default="") or None
    if font_file and not Path(font_file).is_absolute():
        font_file = str(base_dir / font_file)
    weekly_day = v.integer(stats_table, "weekly_day", "stats", 1, 1, 7)
    weekly_time = v.string(stats_table, "weekly_time", "stats", default="09:00")
    if not _is_clock_time(weekly_time):
        v.problem("stats.weekly_time", f'"{weekly_time}" is not a time like "09:00"')

    faq = _parse_faq(v, v.table(raw, "faq"), base_dir)
    demo = v.table(raw, "demo")
    v.unknown_keys(demo, "demo", {"port"})
    demo_port = v.integer(demo, "port", "demo", 8080, 1, 65535)
    wechat = None
    if "wechat" in raw:
        wechat = _parse_wechat(v, v.table(raw, "wechat"), env)
    wecom = None
    if "wecom" in raw:
        wecom = _parse_wecom(v, v.table(raw, "wecom"), env)
        if wechat and wecom.port and wecom.port == wechat.port and wecom.host == wechat.host:
            v.problem(
                "wecom.port",
                f"{wecom.port} is [wechat] port too; the two callbacks need a port each",
            )

    areas_table = v.table(raw, "areas")
    v.unknown_keys(areas_table, "areas", {"file", "min_cases"})
    areas_min_cases = v.integer(areas_table, "min_cases", "areas", 5, 1, 10000)
    areas = Areas()
    areas_file = v.string(areas_table, "file", "areas", default="")
    if areas_file:
        try:
            areas = load_areas(base_dir / areas_file)
        except ConfigError as exc:
            for problem in exc.problems:
                v.problem("areas.file", problem)

    if v.problems:
        raise ConfigError(v.problems)
    return Settings(
        admins=frozenset(admins),
        groups=groups,
        categories=categories,
        negations=negations,
        examples_dir=examples_dir,
        model_weight=model_weight,
        model_temperature=model_temperature,
        storage_path=storage_path,
        storage_url=storage_url,
        retention_days=retention_days,
        takeover_seconds=takeover_seconds,
        telegram=telegram,
        reports=reports,
        outbox=outbox,
        timezone=timezone,
        source=source,
        stats_font_file=font_file,
        weekly_day=weekly_day,
        weekly_time=weekly_time,
        quiz_bank_dir=quiz_bank_dir,
        quiz_round_size=round_size,
        quiz_open_period=open_period,
        quiz_daily_time=daily_time,
        quiz_push_rate=push_rate,
        survey_every_days=every_days,
        demo_port=demo_port,
        roles=roles,
        wechat=wechat,
        wecom=wecom,
        faq=faq,
        areas=areas,
        areas_min_cases=areas_min_cases,
    )


def _parse_faq(v: _Validator, table: Mapping[str, Any], base_dir: Path) -> FaqSettings:
    """[faq]: the folder of the office's answers, each file checked (problems by file and entry)."""
    v.unknown_keys(table, "faq", {"dir", "min_score"})
    min_score = v.number(table, "min_score", "faq", DEFAULT_MIN_SCORE, 0.01, 10.0)
    name = v.string(table, "dir", "faq", default="")
    if not name:
        return FaqSettings(min_score=min_score)
    folder = base_dir / name
    if not folder.is_dir():
        v.problem("faq.dir", f"{folder} is not a folder")
        return FaqSettings(min_score=min_score)
    try:
        entries = load_faq_dir(folder)
    except FaqError as exc:
        for problem in exc.problems:
            v.problem("faq.dir", f"{name}/{problem}")
        return FaqSettings(min_score=min_score)
    return FaqSettings(folder, min_score, entries)


def _parse_groups(
    v: _Validator, table: Mapping[str, Any], env: Mapping[str, str], wecom: bool
) -> dict[str, Group]:
    groups: dict[str, Group] = {}
    if not table:
        v.problem("groups", "at least one group must be configured")
    for key in table:
        path = f"groups.{key}"
        if not _is_group_key(key):
            v.problem(
                path,
                "group keys are a lowercase letter, then up to 31 lowercase letters, digits or _",
            )
            continue
        entry = v.table(table, key, "groups")
        v.unknown_keys(entry, path, {"name", "chat_id", *_WECOM_GROUP_FIELDS})
        name = v.string(entry, "name", path, required=True)
        chat_id = v.integer(entry, "chat_id", path, default=0, low=None, high=None)
        if chat_id > 0:
            v.problem(f"{path}.chat_id", f"{chat_id} is a user id; group chat ids are negative")
        group = Group(key=key, name=name, chat_id=chat_id, **_group_wecom(v, entry, path, env))
        if group.on_wecom and not wecom:
            v.problem(path, "names WeCom recipients but there is no [wecom] table (the app)")
        groups[key] = group
    return groups


def _group_wecom(
    v: _Validator, entry: Mapping[str, Any], path: str, env: Mapping[str, str]
) -> dict[str, Any]:
    """A group's WeCom fields; its robot key from WECOM_ROBOT_<KEY> if that is set."""
    ids = {
        name: v.integer(entry, name, path, 0, 1, WECOM_ID_MAX) or None
        for name in ("wecom_party", "wecom_tag")
        if name in entry
    }
    users: tuple[str, ...] = ()
    if "wecom_users" in entry:
        users = v.userids(entry, "wecom_users", path)
        if not users and isinstance(entry["wecom_users"], list):
            v.problem(
                f"{path}.wecom_users",
                "an empty list; name at least one userid or leave it out",
            )
    robot_key = None
    if "wecom_robot_key" in entry:
        robot_key = v.string(entry, "wecom_robot_key", path, required=True) or None
    group_key = path.removeprefix("groups.")
    robot_key = env.get(f"WECOM_ROBOT_{group_key.upper()}", "").strip() or robot_key
    return {**ids, "wecom_users": users, "wecom_robot_key": robot_key}


def _not_a_group(v: _Validator, path: str, group: str, groups: Mapping[str, Group]) -> None:
    v.problem(path, f'"{group}" is not a group; groups are {", ".join(groups)}')


def _parse_roles(
    v: _Validator, table: Mapping[str, Any], groups: Mapping[str, Group], written: set[str]
) -> Roles:
    defaults = Roles()
    v.unknown_keys(table, "roles", set(Roles.__dataclass_fields__))
    chosen: dict[str, str] = {}
    for role in Roles.__dataclass_fields__:
        path = f"roles.{role}"
        default = getattr(defaults, role)
        if role not in table:
            if role in OPTIONAL_ROLES and default not in written and written:
                chosen[role] = ""
            elif default not in written and written:
                v.problem(
                    path,
                    f'missing, and its default group "{default}" is not configured; '
                    f"groups are {', '.join(groups)}",
                )
            continue
        group = v.string(table, role, "roles", required=True)
        if group and group not in written:
            _not_a_group(v, path, group, groups)
        chosen[role] = group or default
    return Roles(**chosen)


def _parse_categories(
    v: _Validator,
    table: Mapping[str, Any],
    groups: Mapping[str, Group],
    written: set[str],
    base_dir: Path,
) -> dict[str, Category]:
    categories: dict[str, Category] = {}
    if FALLBACK_CATEGORY not in table:
        v.problem(
            f"categories.{FALLBACK_CATEGORY}",
            "missing; it receives what no other category recognises",
        )
    for key in table:
        path = f"categories.{key}"
        if not _is_key(key):
            v.problem(path, "category keys use lowercase letters, digits and _ only")
            continue
        entry = v.table(table, key, "categories")
        v.unknown_keys(
            entry,
            path,
            {"name", "group", "behaviour", "keywords_file", "keywords"}
            | {"accept_hours", "resolve_hours"},
        )
        hours = {
            key: v.number(entry, key, path, 0.0, 1e-6, 8760) if key in entry else None
            for key in ("accept_hours", "resolve_hours")
        }
        name = v.string(entry, "name", path, required=True)
        group = v.string(entry, "group", path, required=True)
        if group and group not in written:
            _not_a_group(v, f"{path}.group", group, groups)
        behaviour = v.boolean(entry, "behaviour", path, default=False)
        lines: list[tuple[str, int, str]] = []
        kw_file = v.string(entry, "keywords_file", path, default="")
        if kw_file:
            file = base_dir / kw_file
            try:
                text = file.read_text(encoding="utf-8")
            except OSError:
                v.problem(f"{path}.keywords_file", f"cannot read {file}")
            else:
                lines += [(kw_file, n, line) for n, line in enumerate(text.splitlines(), 1)]
        inline = entry.get("keywords", [])
        if not isinstance(inline, list) or not all(isinstance(w, str) for w in inline):
            v.problem(f"{path}.keywords", 'must be a list of strings like "乱扔垃圾 3"')
        else:
            lines += [(f"{path}.keywords", n, w) for n, w in enumerate(inline, 1)]
        if key != FALLBACK_CATEGORY and not lines:
            v.problem(path, "has no keywords: set keywords_file or keywords")
        try:
            keywords = parse_keyword_file(lines)
        except KeywordFileError as exc:
            for p in exc.problems:
                v.problem(f"{path}.keywords", p)
            keywords = KeywordTable((), ())
        categories[key] = Category(key, name, group, behaviour, keywords, **hours)
    return categories


def _telegram_webhook(
    v: _Validator, table: Mapping[str, Any], env: Mapping[str, str]
) -> dict[str, Any]:
    """[telegram]'s webhook keys and TELEGRAM_WEBHOOK_SECRET; none of it without webhook_url."""
    d = TelegramSettings()
    url = v.url(table, "webhook_url", "telegram")
    if url is None:
        for key in ("webhook_listen", "webhook_port", "webhook_path"):
            if key in table:
                v.problem(f"telegram.{key}", "has no effect without webhook_url (long polling)")
        return {}
    parts = urlsplit(url)
    if parts.scheme != "https" and not _is_loopback_host(parts.hostname or ""):
        v.problem(
            "telegram.webhook_url",
            f'"{url}" must start with https://: Telegram posts to HTTPS only',
        )
    elif (
        parts.port is not None
        and parts.port not in WEBHOOK_PORTS
        and not _is_loopback_host(parts.hostname or "")
    ):
        ports = ", ".join(map(str, WEBHOOK_PORTS))
        v.problem(
            "telegram.webhook_url", f"port {parts.port}: Telegram posts to ports {ports} only"
        )
    path = v.string(table, "webhook_path", "telegram", default=parts.path or "/")
    if not path.startswith("/"):
        v.problem("telegram.webhook_path", f'"{path}" must start with /')
    secret = env.get("TELEGRAM_WEBHOOK_SECRET", "").strip()
    if not secret:
        v.problem(
            "telegram.webhook_secret",
            "missing: set TELEGRAM_WEBHOOK_SECRET in the environment (with a webhook, "
            "the secret is how a post is known to come from Telegram)",
        )
    elif not _is_webhook_secret(secret):
        v.problem(
            "telegram.webhook_secret",
            f"TELEGRAM_WEBHOOK_SECRET must be 1 to {WEBHOOK_SECRET_MAX} characters of "
            f"A-Z a-z 0-9 _ -, as Telegram asks; it has {len(secret)} characters"
            + ("" if len(secret) > WEBHOOK_SECRET_MAX else ", not all of them allowed"),
        )
    return {
        "webhook_url": url,
        "webhook_listen": v.string(table, "webhook_listen", "telegram", default=d.webhook_listen),
        "webhook_port": _port(
            v, table, "webhook_port", "telegram", d.webhook_port, env, "TELEGRAM_WEBHOOK_PORT", 1
        ),
        "webhook_path": path,
        "webhook_secret": secret,
    }


def _is_webhook_secret(secret: str) -> bool:
    return bool(_WEBHOOK_SECRET_RE.fullmatch(secret))


def _is_loopback_host(host: str) -> bool:
    """A local address (the stand-in and the tests post over plain HTTP to one)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _parse_wechat(
    v: _Validator, table: Mapping[str, Any], env: Mapping[str, str]
) -> WeChatSettings:
    _refuse_secrets_and_unknown_keys(v, table, "wechat", WeChatSettings, _WECHAT_SECRETS)
    d = WeChatSettings(app_id="", token="", app_secret="")
    app_id = v.string(table, "app_id", "wechat", required=True)
    if app_id and not _is_app_id(app_id):
        v.problem("wechat.app_id", f'"{app_id}" is not an AppID (wx and 16 letters or digits)')
    token = env.get("WECHAT_TOKEN", "").strip()
    if not token:
        v.problem("wechat.token", "missing: set WECHAT_TOKEN (服务器配置 Token) in the environment")
    elif not (3 <= len(token) <= 32 and token.isascii() and token.isalnum()):
        v.problem("wechat.token", "WECHAT_TOKEN must be 3 to 32 letters or digits, as WeChat asks")
    app_secret = env.get("WECHAT_APP_SECRET", "").strip()
    if not app_secret:
        v.problem("wechat.app_secret", "missing: set WECHAT_APP_SECRET in the environment")
    aes_key = env.get("WECHAT_ENCODING_AES_KEY", "").strip() or None
    aes_key_named = aes_key is not None  # a broken key is reported once, as broken
    if aes_key is not None and not _is_encoding_aes_key(aes_key):
        v.problem(
            "wechat.encoding_aes_key",
            f"WECHAT_ENCODING_AES_KEY must be 43 characters of base64 without padding "
            f"(the EncodingAESKey of 服务器配置); it has {len(aes_key)}",
        )
        aes_key = None
    plaintext = v.boolean(table, "plaintext", "wechat", d.plaintext)
    if not aes_key_named and not plaintext:
        v.problem(
            "wechat.plaintext",
            "no WECHAT_ENCODING_AES_KEY is set, so callbacks would arrive unencrypted: "
            "set the key (safe mode, 安全模式) or plaintext = true to accept them",
        )
    return WeChatSettings(
        app_id=app_id,
        token=token,
        app_secret=app_secret,
        encoding_aes_key=aes_key,
        plaintext=plaintext,
        **_callback_server(v, table, "wechat", d, env),
        templates=_parse_templates(v, v.table(table, "templates", "wechat")),
        menu=_parse_menu(v, table.get("menu", [])),
    )


def _parse_wecom(v: _Validator, table: Mapping[str, Any], env: Mapping[str, str]) -> WeComSettings:
    _refuse_secrets_and_unknown_keys(v, table, "wecom", WeComSettings, _WECOM_SECRETS)
    d = WeComSettings(corp_id="", agent_id=0, secret="", token="", encoding_aes_key="")
    corp_id = v.string(table, "corp_id", "wecom", required=True)
    if corp_id and not (len(corp_id) <= 64 and corp_id.isascii() and corp_id.isalnum()):
        v.problem(
            "wecom.corp_id",
            f'"{corp_id}" is not a corp id (letters and digits, like ww0123456789abcdef)',
        )
    agent_id = 0
    if "agent_id" not in table:
        v.problem("wecom.agent_id", "missing")
    else:
        agent_id = v.integer(table, "agent_id", "wecom", 0, 1, WECOM_ID_MAX)
    secret = env.get("WECOM_SECRET", "").strip()
    if not secret:
        v.problem("wecom.secret", "missing: set WECOM_SECRET (the app's Secret) in the environment")
    token = env.get("WECOM_TOKEN", "").strip()
    if not token:
        v.problem("wecom.token", "missing: set WECOM_TOKEN (接收消息 Token) in the environment")
    elif not (3 <= len(token) <= 32 and token.isascii() and token.isalnum()):
        v.problem("wecom.token", "WECOM_TOKEN must be 3 to 32 letters or digits, as WeCom asks")
    aes_key = env.get("WECOM_ENCODING_AES_KEY", "").strip()
    if not aes_key:
        v.problem(
            "wecom.encoding_aes_key",
            "missing: set WECOM_ENCODING_AES_KEY (接收消息 EncodingAESKey) in the environment; "
            "WeCom encrypts every callback",
        )
    elif not _is_encoding_aes_key(aes_key):
        v.problem(
            "wecom.encoding_aes_key",
            f"WECOM_ENCODING_AES_KEY must be 43 characters of base64 without padding "
            f"(the EncodingAESKey of 接收消息); it has {len(aes_key)}",
        )
    return WeComSettings(
        corp_id=corp_id,
        agent_id=agent_id,
        secret=secret,
        token=token,
        encoding_aes_key=aes_key,
        **_callback_server(v, table, "wecom", d, env),
        note_minutes=v.integer(table, "note_minutes", "wecom", d.note_minutes, 1, 1440),
        admins=v.userids(table, "admins", "wecom") if "admins" in table else (),
    )


def _refuse_secrets_and_unknown_keys(
    v: _Validator, table: Mapping[str, Any], section: str, settings: type, secrets: set[str]
) -> None:
    """Name a secret written in the file (it belongs in the environment) and unknown keys."""
    for secret in sorted(secrets):
        if secret in table:
            v.problem(
                f"{section}.{secret}",
                f"secrets are not written here: set {section.upper()}_{secret.upper()} "
                "in the environment",
            )
    known = set(settings.__dataclass_fields__) - secrets
    v.unknown_keys({k: x for k, x in table.items() if k not in secrets}, section, known)


def _port(
    v: _Validator,
    table: Mapping[str, Any],
    key: str,
    section: str,
    default: int,
    env: Mapping[str, str],
    variable: str,
    low: int = 0,
) -> int:
    """A server's port: the environment's `variable` if set, else the file's (0 = any free
    one). Several processes on one machine share one config file and differ by it."""
    raw = env.get(variable, "").strip()
    if not raw:
        return v.integer(table, key, section, default, low, 65535)
    if not raw.isdigit() or not low <= int(raw) <= 65535:
        v.problem(f"{section}.{key}", f"{variable}={raw!r} in the environment is no port number")
        return default
    return int(raw)


def _callback_server(
    v: _Validator, table: Mapping[str, Any], section: str, defaults: Any, env: Mapping[str, str]
) -> dict[str, Any]:
    """The API's base URL and the callback server's fields, alike for WeChat and WeCom;
    WECHAT_PORT / WECOM_PORT in the environment win over the file's port."""
    path = v.string(table, "path", section, default=defaults.path)
    if not path.startswith("/"):
        v.problem(f"{section}.path", f'"{path}" must start with /')
    return {
        "api_base_url": v.url(table, "api_base_url", section) or defaults.api_base_url,
        "host": v.string(table, "host", section, default=defaults.host),
        # 0: any free port (the demo and the tests, which then read the one bound).
        "port": _port(v, table, "port", section, defaults.port, env, f"{section.upper()}_PORT"),
        "path": path,
        # Both wait 5 s for a passive reply.
        "reply_budget_seconds": v.number(
            table, "reply_budget_seconds", section, defaults.reply_budget_seconds, 0.001, 4.5
        ),
    }


def _is_app_id(app_id: str) -> bool:
    return len(app_id) == 18 and app_id.startswith("wx") and app_id.isascii() and app_id.isalnum()


def _is_encoding_aes_key(key: str) -> bool:
    """43 base64 characters that decode, with the padding WeChat leaves off, to 32 bytes."""
    if len(key) != 43 or not key.isascii():
        return False
    try:
        return len(base64.b64decode(key + "=", validate=True)) == 32
    except binascii.Error:
        return False


def _parse_templates(v: _Validator, table: Mapping[str, Any]) -> dict[str, str]:
    templates: dict[str, str] = {}
    for name, template_id in table.items():
        path = f"wechat.templates.{name}"
        if name not in WECHAT_TEMPLATE_KEYS:
            v.problem(path, f"unknown template; the bot sends {', '.join(WECHAT_TEMPLATE_KEYS)}")
        elif not isinstance(template_id, str) or not template_id.strip():
            v.problem(path, "must be a template id (a non-empty string)")
        else:
            templates[name] = template_id
    return templates


def _parse_menu(v: _Validator, raw: Any) -> tuple[MenuButton, ...]:
    if not isinstance(raw, list) or not all(isinstance(b, Mapping) for b in raw):
        v.problem("wechat.menu", "must be a list of buttons ([[wechat.menu]])")
        return ()
    if len(raw) > MENU_BUTTONS_MAX:
        v.problem("wechat.menu", f"{len(raw)} buttons; WeChat allows at most {MENU_BUTTONS_MAX}")
    keys: set[str] = set()
    buttons = []
    for n, entry in enumerate(raw[:MENU_BUTTONS_MAX], 1):
        path = f"wechat.menu[{n}]"
        subs_raw = entry.get("sub_button")
        v.unknown_keys(entry, path, {"name", "key", "sub_button"})
        name = _menu_name(v, entry, path, MENU_NAME_BYTES)
        if subs_raw is None:
            buttons.append(MenuButton(name, key=_menu_key(v, entry, path, keys)))
            continue
        if "key" in entry:
            v.problem(path, "has both key and sub_button; a button with sub-buttons has no key")
        if (
            not isinstance(subs_raw, list)
            or not subs_raw
            or not all(isinstance(b, Mapping) for b in subs_raw)
        ):
            v.problem(f"{path}.sub_button", "must be a list of 1 to 5 buttons")
            continue
        if len(subs_raw) > MENU_SUB_BUTTONS_MAX:
            v.problem(
                f"{path}.sub_button",
                f"{len(subs_raw)} buttons; WeChat allows at most {MENU_SUB_BUTTONS_MAX}",
            )
        subs = []
        for m, sub in enumerate(subs_raw[:MENU_SUB_BUTTONS_MAX], 1):
            sub_path = f"{path}.sub_button[{m}]"
            v.unknown_keys(sub, sub_path, {"name", "key"})
            sub_name = _menu_name(v, sub, sub_path, MENU_SUB_NAME_BYTES)
            subs.append(MenuButton(sub_name, key=_menu_key(v, sub, sub_path, keys)))
        buttons.append(MenuButton(name, sub_buttons=tuple(subs)))
    return tuple(buttons)


def _menu_name(v: _Validator, entry: Mapping[str, Any], path: str, limit: int) -> str:
    name = v.string(entry, "name", path, required=True)
    size = len(name.encode("utf-8"))
    if size > limit:
        v.problem(
            f"{path}.name",
            f'"{name}" is {size} bytes; WeChat allows {limit} (3 a Chinese character)',
        )
    return name


def _menu_key(v: _Validator, entry: Mapping[str, Any], path: str, seen: set[str]) -> str:
    key = v.string(entry, "key", path, required=True)
    if len(key.encode("utf-8")) > MENU_KEY_BYTES:
        v.problem(f"{path}.key", f"longer than WeChat's {MENU_KEY_BYTES} bytes")
    elif key and key in seen:
        v.problem(f"{path}.key", f'"{key}" is already another button\'s key')
    seen.add(key)
    return key


def _read_word_list(v: _Validator, file: Path, path: str) -> tuple[str, ...]:
    try:
        text = file.read_text(encoding="utf-8")
    except OSError:
        v.problem(path, f"cannot read {file}")
        return ()
    words = [w.split("#", 1)[0].strip() for w in text.splitlines()]
    return tuple(w for w in words if w)


def _database_url(v: _Validator, url: str) -> str | None:
    """A PostgreSQL URL to use instead of the SQLite file, or None (SQLite)."""
    if not url:
        return None
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("postgresql", "postgres"):
        v.problem("storage.url", "must be a postgresql:// URL (leave it out for SQLite)")
        return None
    if not (parts.hostname or "host=" in parts.query) or not parts.path.strip("/"):
        v.problem("storage.url", "must name a host and a database: postgresql://user@host/db")
        return None
    return url


def _check_timezone(v: _Validator, name: str) -> None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        v.problem("timezone", f'"{name}" is not a known time zone (e.g. "Asia/Shanghai")')


def _is_clock_time(text: str) -> bool:
    hours, _, minutes = text.partition(":")
    return (
        hours.isdigit() and minutes.isdigit() and int(hours) < 24 and int(minutes) < 60
        and len(minutes) == 2
    )  # fmt: skip


def _is_group_key(key: str) -> bool:
    """[a-z][a-z0-9_]{0,31}: short enough for callback data and a /bind argument."""
    return (
        0 < len(key) <= 32 and key.isascii() and key[0].islower()
        and all(c.islower() or c.isdigit() or c == "_" for c in key)
    )  # fmt: skip


def _is_key(key: str) -> bool:
    return bool(key) and all(c.islower() or c.isdigit() or c == "_" for c in key) and key.isascii()


class _Validator:
    """Reads typed values from a mapping, collecting problems instead of raising."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def problem(self, path: str, message: str) -> None:
        self.problems.append(f"{path}: {message}")

    @staticmethod
    def _path(parent: str, key: str) -> str:
        return f"{parent}.{key}" if parent else key

    def unknown_keys(self, table: Mapping[str, Any], parent: str, known: set[str]) -> None:
        for key in table:
            if key not in known:
                self.problem(
                    self._path(parent, key),
                    f"unknown key; expected one of {', '.join(sorted(known))}",
                )

    def table(self, raw: Mapping[str, Any], key: str, parent: str = "") -> Mapping[str, Any]:
        value = raw.get(key, {})
        if not isinstance(value, Mapping):
            self.problem(self._path(parent, key), "must be a table ([section])")
            return {}
        return value

    def string(
        self,
        raw: Mapping[str, Any],
        key: str,
        parent: str,
        default: str = "",
        required: bool = False,
    ) -> str:
        if key not in raw:
            if required:
                self.problem(self._path(parent, key), "missing")
            return default
        value = raw[key]
        if not isinstance(value, str) or (required and not value.strip()):
            self.problem(self._path(parent, key), "must be a non-empty string")
            return default
        return value

    def url(self, raw: Mapping[str, Any], key: str, parent: str) -> str | None:
        value = self.string(raw, key, parent, default="")
        if not value:
            return None
        if not value.startswith(("http://", "https://")):
            self.problem(self._path(parent, key), f'"{value}" must start with http:// or https://')
            return None
        return value

    def integer(
        self,
        raw: Mapping[str, Any],
        key: str,
        parent: str,
        default: int,
        low: int | None,
        high: int | None,
    ) -> int:
        value = raw.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int):
            self.problem(self._path(parent, key), f"must be a whole number, not {value!r}")
            return default
        if (low is not None and value < low) or (high is not None and value > high):
            self.problem(self._path(parent, key), f"{value} is out of range {low}..{high}")
            return default
        return value

    def number(
        self, raw: Mapping[str, Any], key: str, parent: str, default: float, low: float, high: float
    ) -> float:
        value = raw.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.problem(self._path(parent, key), f"must be a number, not {value!r}")
            return default
        if not low <= value <= high:
            self.problem(self._path(parent, key), f"{value} is out of range {low}..{high}")
            return default
        return float(value)

    def boolean(self, raw: Mapping[str, Any], key: str, parent: str, default: bool) -> bool:
        value = raw.get(key, default)
        if not isinstance(value, bool):
            self.problem(self._path(parent, key), f"must be true or false, not {value!r}")
            return default
        return value

    def userids(self, raw: Mapping[str, Any], key: str, parent: str) -> tuple[str, ...]:
        """A list of WeCom userids (non-empty strings without spaces)."""
        value = raw.get(key, [])
        if not isinstance(value, list) or not all(
            isinstance(u, str) and u.strip() and not any(c.isspace() for c in u) for u in value
        ):
            self.problem(
                self._path(parent, key), 'must be a list of WeCom userids, e.g. ["zhangsan"]'
            )
            return ()
        return tuple(value)

    def int_list(self, raw: Mapping[str, Any], key: str, default: list[int]) -> list[int]:
        value = raw.get(key, default)
        if not isinstance(value, list) or not all(
            isinstance(i, int) and not isinstance(i, bool) for i in value
        ):
            self.problem(key, "must be a list of Telegram user ids, e.g. [123456789]")
            return default
        return value
