"""Every word residents and staff read, in one place, so a district can reword them."""

from __future__ import annotations

WELCOME = (
    "您好！我是文明城区随手拍小助手 👋\n"
    "看到乱扔垃圾、闯红灯、室内吸烟、占道经营、违章搭建、小广告、路灯损坏等不文明现象"
    "或公共设施问题，直接发文字或照片告诉我就行。\n\n"
    "📮 怎么反映：\n"
    "1. 发一段文字描述，或发照片（可带说明）；\n"
    "2. 核对我识别的问题类别，可补充位置和更多照片；\n"
    "3. 点「✅ 确认提交」，您会收到工单号，我会转交负责的工作组办理，每一步进展都会通知您。\n\n"
    "🔒 我们保存什么、谁能看到：您反映的文字、照片、位置和时间会保存下来，"
    "只转交负责办理的工作组和区创建办。您的姓名、用户名和账号不会告诉工作组。\n\n"
    "查看我的反映：/myreports　查询工单：/status 工单号　帮助：/help"
)

HELP = (
    "📖 使用帮助\n"
    "• 反映问题：直接发文字，或发照片（可带文字说明）。\n"
    "• 添加位置：在待确认的反映下点「📍 添加位置」，或回复该消息输入地址。\n"
    "• 更多照片：在点确认前继续发照片即可。\n"
    "• /myreports 查看我的反映及办理进度\n"
    "• /status 工单号 查询某一条反映，例如 /status 261128-001\n"
    "• 有疑问（办公时间、垃圾分类、志愿报名等）直接问我；看到好人好事也欢迎推荐给我。\n"
    "我能识别文字、照片和位置；语音、视频、贴纸和文件暂时无法处理。"
)

# --- A text that is not a report: chit-chat, spam, and asking when unsure ------
CHITCHAT = (
    "您好呀 😊 我是文明城区随手拍小助手。看到不文明行为或公共设施损坏，"
    "直接发文字、照片或位置给我就行；想了解更多，点下面的选项。"
)
BUTTON_HOW_TO_REPORT = "📖 怎么反映问题"
BUTTON_MY_REPORTS = "📋 我的反映"
BUTTON_DAILY_QUIZ = "📝 每日答题"
# Under an answer to a text the bot took for something else, when it is not sure.
ASK_REPORT = "要反映这个问题吗？如果是，点下面的按钮，我按问题反映为您登记。"
ASK_REPORT_FIRST = (
    "您是想反映这个问题吗？如果是，点下面的按钮，我为您登记；如果是想咨询，直接问我就行。"
)
BUTTON_REPORT_IT = "📮 要，反映这个问题"
SPAM_NOTICE = (
    "本号只受理文明城区创建的问题反映、咨询和好人好事推荐，"
    "广告、推广和招聘信息不予处理，也不会转发。"
)
SPAM_THROTTLED = (
    "您发送的广告类信息较多，{hours} 小时内本号不再回复您发来的此类消息。"
    "如需反映不文明现象，请直接描述问题，仍会正常受理。"
)
YOU_ARE_WELCOME = (
    "不客气 😊 文明城区靠大家一起创建。看到不文明现象，随时发给我；也可以点下面的选项。"
)
KEPT_ALREADY_DRAFTED = "这条内容已经按问题反映登记过了，请在那张卡片上确认提交。"

UNSUPPORTED = (
    "抱歉，我暂时只能处理文字、照片和位置 🙏\n"
    "语音、视频、贴纸和文件无法识别，请用文字描述问题，或直接拍照发给我。"
)
UNKNOWN_COMMAND = "没有这个命令。可用的命令：/start /help /myreports /status 工单号"

TOO_LONG = "内容有点长（超过 {limit} 字），请精简后再发送。"
TOO_MANY_PHOTOS = "每条反映最多 {limit} 张照片，多出的照片没有添加。"
FLOOD = "您这一小时内已经反映了 {limit} 条问题，感谢您的热心！请稍后再提交新的反映。"
TOO_FAST = "您发送得太快了，请稍后再试。{seconds} 秒内发来的消息暂不处理，感谢您的理解！"
NEEDS_DESCRIPTION = "请先补充一句文字说明或一张照片，再点确认。"

# The resident's draft card.
DRAFT_TITLE = "📝 请核对您的反映"
DRAFT_TEXT = "内容：{text}"
DRAFT_NO_TEXT = "内容：（暂无文字，可直接发送文字补充）"
DRAFT_CATEGORY = "类别：{category}（由{group}办理）"
DRAFT_LOCATION = "📍 位置：{location}"
DRAFT_NO_LOCATION = "📍 位置：未添加（可点「添加位置」，或回复本消息输入地址）"
DRAFT_PHOTOS = "📷 照片：{count} 张"
DRAFT_CONFIRM_HINT = "确认无误请点「✅ 确认提交」。"
DRAFT_UNPLACED = "没能确定问题类型，请选择最接近的一类："
DRAFT_CHOOSE = "请选择问题类别："
DRAFT_CANCELLED = "已取消这条反映。有问题随时发给我。"
DRAFT_SUBMITTED = (
    "✅ 已提交！工单号：{ticket}\n"
    "类别：{category}\n已转交{group}办理，办理进展会第一时间通知您。\n"
    "查询进度：/status {ticket}"
)
DRAFT_SUBMITTED_TOAST = "已提交，工单号：{ticket}"
DRAFT_ALREADY_SUBMITTED = "这条反映已经提交过了。\n工单号：{ticket}\n查询进度：/status {ticket}"
DRAFT_GONE = "这条反映已失效，请重新发送。"
DUPLICATE_FOUND = (
    "📌 附近（约{distance}米）已有同类问题的工单 {ticket}，{group}正在处理（{status}）。\n"
    "您可以关注这个工单，进展会同样通知您；如果是另一处问题，也可以单独提交。"
)
BUTTON_FOLLOW = "👀 关注这个工单"
BUTTON_SEPARATE = "📮 仍然单独提交"
FOLLOWING = "👀 已关注工单 {ticket}，{group}的每一步进展都会通知您。谢谢您的反映！"
DRAFT_CLOSED = "这条反映已取消，请重新发送。"
DRAFT_PHOTO_ADDED = "📷 已添加照片（共 {count} 张）。"
DRAFT_LOCATION_ADDED = "📍 已添加位置。"
DRAFT_ADDRESS_ADDED = "📍 已记录地址：{address}"
LOCATION_REQUEST = (
    "请点下方「📍 发送当前位置」，"
    "或直接回复上面那条待确认的反映，输入地址（如：XX路与XX街交叉口）。"
)
LOCATION_SEND_BUTTON = "📍 发送当前位置"
LOCATION_SKIP_BUTTON = "不添加位置"
LOCATION_SKIPPED = "好的，不添加位置。"
LOCATION_MAP = "地图"
LOCATION_IMPOSSIBLE = (
    "这个位置的经纬度超出了范围（纬度 -90～90，经度 -180～180），请重新发送当前位置。"
)

BUTTON_CONFIRM = "✅ 确认提交"
BUTTON_CHANGE_CATEGORY = "🔄 更换类别"
BUTTON_ADD_LOCATION = "📍 添加位置"
BUTTON_CANCEL = "❌ 取消"
BUTTON_BACK = "↩️ 返回"

# The resident's reports.
MY_REPORTS_EMPTY = "您还没有反映过问题。看到不文明现象，直接发文字或照片给我就行。"
MY_REPORTS_TITLE = "📋 您的反映（共 {total} 条，显示最近 {shown} 条）："
MY_REPORTS_LINE = "{ticket}　{category}　{status}　{time}"
MY_REPORTS_HINT = "查看详情：/status 工单号"
STATUS_USAGE = "请在命令后加工单号，例如：/status 261128-001"
STATUS_NOT_FOUND = "没有找到工单 {ticket}。请核对工单号（只能查询自己反映的问题）。"
STATUS_DETAIL = (
    "工单 {ticket}\n类别：{category}（{group}）\n状态：{status}\n内容：{text}\n提交时间：{time}"
)
STATUS_HISTORY = "办理记录："
STATUS_HISTORY_LINE = "• {time} {what}"
STATUS_EARLIER = "• ……更早的 {count} 条记录从略"

STATUS_NAMES = {
    "submitted": "待受理",
    "accepted": "已受理",
    "resolved": "已办结",
    "rejected": "已退回",
    "duplicate": "重复已合并",
    "reopened": "重新办理",
    "closed": "已结案",
}
ACTION_NAMES = {
    "submit": "提交",
    "accept": "受理",
    "resolve": "办结",
    "reject": "退回",
    "reassign": "转派",
    "merge": "合并重复",
    "follow": "另一位群众反映了同一问题",
    "reopen": "群众不满意，重新办理",
    "close": "结案",
    "rate": "群众评价",
    "ask": "询问群众",
    "answer": "群众回复",
}
RATING_NAMES = {"satisfied": "满意", "basically": "基本满意", "unsatisfied": "不满意"}

# Notifications to the resident.
NOTIFY_ACCEPTED = "🔔 工单 {ticket}：{group}已受理您的反映，正在处理。"
NOTIFY_RESOLVED = "✅ 工单 {ticket}：{group}已办结您的反映。"
NOTIFY_REJECTED = "↩️ 工单 {ticket}：{group}已退回您的反映。"
NOTIFY_REASSIGNED = "🔀 工单 {ticket}：已转交{group}办理，进展会继续通知您。"
NOTIFY_MERGED = "🔗 工单 {ticket}：您反映的问题已有人先反映过，已合并到该工单，进展会继续通知您。"
NOTIFY_NOTE = "办理说明：{note}"
NOTIFY_REASON = "理由：{note}"
NOTIFY_FOOTER = "感谢您为文明城区出力！请为这次办理打个分："
BUTTON_RATINGS = {"satisfied": "😊 满意", "basically": "🙂 基本满意", "unsatisfied": "🙁 不满意"}
RATE_THANKS = "感谢您的评价：{rating}！"
RATE_ALREADY = "您已经评价过了，谢谢！"
REOPEN_ASK = (
    "很抱歉没让您满意。请直接回复本消息，说说哪里还有问题（{limit}字以内），"
    "我们会把工单 {ticket} 重新交给{group}办理。"
)
REOPEN_DONE = "🔁 已把工单 {ticket} 重新交给{group}办理，进展会继续通知您。"
REOPEN_TOO_LONG = "说明太长（超过 {limit} 字），请精简后重新回复上面的消息。"

# The working group's alert.
ALERT_TITLE = "🆕 群众反映　工单 {ticket}"
ALERT_CATEGORY = "类别：{category}"
ALERT_TEXT = "内容："  # then the resident's text, every line quoted
# Marks every line of someone else's words (a resident's text, comment or answer)
# so that none of them can pass for one of the bot's own lines (状态：…).
QUOTE = "｜"
QUOTE_CUT = "｜……（原文过长，以下从略）"
NOTE_INDENT = "　　"  # a note's second and later lines
STEP_CUT = "　……（以下从略）"
ALERT_EARLIER = "（更早的 {count} 条办理记录从略）"
ALERT_NO_TEXT = "内容：（群众未写文字，见照片）"
ALERT_ADDRESS = "📍 地址：{address}"
ALERT_MAP = "🗺 地图：{url}"
ALERT_NO_LOCATION = "📍 位置：群众未提供"
ALERT_PHOTOS = "📷 照片 {count} 张（见下方）"
ALERT_TIME = "🕒 提交时间：{time}"
ALERT_STATUS = "状态：{status}"
ALERT_ACTED = "{action}：{actor}　{time}"
ALERT_NOTE = "　说明：{note}"
ALERT_REASSIGNED_TO = "转派至{group}"
ALERT_HANDED_OVER = "🔀 已转派至{group}，本群无需再处理。"
ALERT_REOPENED = "⚠️ 群众不满意，重新办理："  # then the resident's comment, quoted
ALERT_REOPENED_AWAY = "⚠️ 群众不满意，已重新交办，请处理下方的新消息。"
ALERT_RATED = "群众评价：{rating}"
ALERT_FOLLOWERS = "👥 另有 {count} 位群众反映了同一问题"
RELAY_QUESTION = "💬 工单 {ticket}：{group}想向您了解：\n{text}\n（直接回复本消息即可回答）"
RELAY_ANSWER = "💬 群众回复（工单 {ticket}）：\n{text}"  # text: quoted
RELAY_UNDELIVERED = (
    "⚠️ 工单 {ticket}：您的提问未能送达群众（对方可能已屏蔽或停用机器人），"
    "请通过其他方式跟进。您的提问：\n{text}"
)  # text: quoted
RELAY_SENT = "已转给群众，回复会发到这里。"
RELAY_ANSWERED = "已把您的回复转给{group}，谢谢！"
DIGEST_TITLE = "📋 每日简报　{group}　{date}"
DIGEST_NEW = "🆕 新反映 {count} 件：{items}"
DIGEST_DUE = "⏳ 今日到期 {count} 件：{items}"
DIGEST_OVERDUE = "🚨 已逾期 {count} 件：{items}"
DIGEST_DUE_ITEM = "{ticket}（{what}）"
DIGEST_OVERDUE_ITEM = "{ticket}（{what}，逾期{late}）"
DIGEST_MORE = " 等（另有 {rest} 件未列出）"
DIGEST_WHAT = {"accept": "待受理", "resolve": "待办结"}
DIGEST_QUIET = "昨日以来没有新反映，也没有到期或逾期的工单 👍"
REFUSAL_NOTICE = (
    "⚠️ 消息无法送达，已停止重发\n"
    "{what}（发往{group}）{ticket}被 Telegram 拒收。\n"
    "Telegram 的答复：{reason}\n"
    "请人工跟进：必要时把情况转告{group}；若机器人已不在该群，请把它拉回群并发送 /bind。"
)
# A group taken out of config.toml while messages for it waited: they cannot go anywhere.
GROUP_GONE_NOTICE = (
    "⚠️ 消息无法送达，已停止重发\n"
    "{what}（发往工作组 {group}）{ticket}没有发出：配置中已没有这个工作组。\n"
    "请人工跟进：把情况转告接手的工作组，或把该工作组加回配置后重启机器人。"
)
REFUSAL_TICKET = "，工单 {ticket}，"
REFUSAL_WHAT = {
    "group_alert": "新反映提醒",
    "edit_alert": "提醒的状态更新",
    "deadline_notice": "超时提醒",
    "relay_answer": "群众的回复",
    "digest": "每日简报",
    "weekly_report": "周报",
}
REFUSAL_WHAT_PARTS = "新反映提醒的照片或位置（文字已送达）"
DIGEST_SENT = "已把今天的简报发给各工作组。"
DIGEST_NOT_ADMIN = "无权限：只有区创建办管理员可以发送简报。"
STATS_NOT_ADMIN = "无权限：只有区创建办管理员可以查看统计。"
STATS_USAGE = "用法：/stats（最近30天），或 /stats 天数，例如 /stats 7"
STATS_TITLE = "📊 最近 {days} 天（{since} 至 {until}）办理情况"
STATS_EMPTY = "这段时间没有反映。"
STATS_DISTRICT = "全区"
STATS_BY_GROUP = "— 按工作组 —"
STATS_BY_CATEGORY = "— 按类别 —"
STATS_MESSAGES = "— 非问题反映的消息 —\n{parts}（{spammers} 个账号因广告被限流）"
STATS_INTENT_NAMES = {
    "question": "咨询",
    "praise": "表扬推荐",
    "chitchat": "闲聊",
    "spam": "广告",
    "report": "先问是否反映",
}
STATS_LINE = (
    "{name}：{cases} 件｜按时受理 {response}｜办结 {resolution}｜按时办结 {on_time}"
    "｜满意 {satisfaction}（{rated} 人评价）"
)
STATS_MEDIANS = "｜受理中位 {accept}｜办结中位 {resolve}"
STATS_CHART_TITLE = "最近 {days} 天各工作组办理情况（虚线为 90% 目标）"
STATS_SERIES = {
    "按时受理率": "response_rate",
    "办结率": "resolution_rate",
    "按时办结率": "on_time_rate",
    "满意率": "satisfaction_rate",
}
STATS_NO_FONT = "（图表未生成：服务器缺少中文字体，请管理员安装 fonts-wqy-microhei。）"
WEEKLY_TITLE = "🗓 周报"
WEEKLY_TREND = "与上周相比：反映 {cases}｜办结率 {resolution}｜满意率 {satisfaction}"
PRIVATE_ONLY = "请在与机器人的私聊中使用此命令：统计和导出数据不在群里发送。"
EXPORT_NOT_ADMIN = "无权限：只有区创建办管理员可以导出工单。"
EXPORT_USAGE = "用法：/export（最近30天），或 /export 2026-11-01 2026-11-30"
EXPORT_CAPTION = "工单导出：共 {count} 件（不含群众身份信息）。"
EXPORT_HEADERS = {
    "ticket": "工单号",
    "category": "类别",
    "group_key": "工作组",
    "status": "状态",
    "created_at": "提交时间",
    "accepted_at": "受理时间",
    "resolved_at": "办结时间",
    "rated_at": "评价时间",
    "rating": "评价",
    "reopened": "重新办理次数",
    "latitude": "纬度",
    "longitude": "经度",
    "address": "地址",
    "text": "内容",
}
DEADLINE_REMIND = {
    "accept": "⏰ 提醒：工单 {ticket}（{category}）已超过受理时限 {late}，请尽快受理。",
    "resolve": "⏰ 提醒：工单 {ticket}（{category}）已超过办结时限 {late}，请尽快办结。",
}
DEADLINE_ESCALATE = {
    "accept": "🚨 督办：{group}的工单 {ticket}（{category}）超过受理时限 {late}，仍未受理。",
    "resolve": "🚨 督办：{group}的工单 {ticket}（{category}）超过办结时限 {late}，仍未办结。",
}
DEADLINE_TEXT = "内容："  # then the resident's text, quoted
DEADLINE_NO_TEXT = "内容：（照片）"
LATE_DAYS = "{days}天{hours}小时"
LATE_HOURS = "{hours}小时{minutes}分钟"
LATE_MINUTES = "{minutes}分钟"
BUTTON_ACCEPT = "✅ 受理"
BUTTON_RESOLVE = "🏁 办结"
BUTTON_REASSIGN = "🔀 转派"
BUTTON_REJECT = "↩️ 退回"
BUTTON_MERGE = "🔗 重复"

ACT_DONE = {"accept": "已受理，群众会收到通知。"}
ACT_ASK_NOTE = "请在群里回复机器人的提示，写一句说明。"
ACT_REFUSED = {
    ("accepted", "accept"): "这条反映已经受理过了。",
    ("resolved", "accept"): "这条反映已经办结。",
    ("resolved", "resolve"): "这条反映已经办结，不能重复办结。",
}
ACT_REFUSED_CLOSED = "这条反映已{status}，不能再{action}。"
REASSIGN_CHOOSE = "转派给哪个工作组？"
PROMPT = {
    "resolve": "✍️ 工单 {ticket}：请直接回复本消息，写一句办结说明（群众会看到，{limit}字以内）。",
    "reject": "✍️ 工单 {ticket}：请直接回复本消息，写明退回理由（群众会看到，{limit}字以内）。",
    "reassign": "✍️ 工单 {ticket}：请直接回复本消息，写明转派给{group}的理由（{limit}字以内）。",
    "merge": "🔗 工单 {ticket}：请直接回复本消息，输入与它重复的较早工单号。",
}
NOTE_DONE = {
    "resolve": "🏁 工单 {ticket} 已办结，群众会收到说明。",
    "reject": "↩️ 工单 {ticket} 已退回，群众会收到理由。",
    "reassign": "🔀 工单 {ticket} 已转派给{group}。",
    "merge": "🔗 工单 {ticket} 已作为重复合并，群众会关注较早的工单。",
}
MERGE_UNKNOWN = "没有找到这个工单，或它已办结：请回复一个仍在办理中的较早工单号。"
NOTE_TOO_LONG = "说明太长（超过 {limit} 字），请精简后重新回复上面的提示。"
NOTE_USED = "这条提示已经回复过了。"
NO_PERMISSION = "无权限：只有本工作组成员和管理员可以操作。"
BUTTON_STALE = "这个按钮已失效，请刷新后重试。"
# A button on a message Telegram no longer shows the bot (too old): each starts with
# BUTTON_TOO_OLD and says what to do instead.
BUTTON_TOO_OLD = "这条消息时间太久，按钮已失效。"
BUTTON_TOO_OLD_DRAFT = BUTTON_TOO_OLD + "请重新发送您要反映的问题。"
BUTTON_TOO_OLD_QUIZ = BUTTON_TOO_OLD + "请重新发送 /quiz 开始答题。"
BUTTON_TOO_OLD_SUBSCRIBE = BUTTON_TOO_OLD + "订阅每日答题请发送 /subscribe。"
BUTTON_TOO_OLD_SURVEY = BUTTON_TOO_OLD + "请重新发送 /survey 参与调查。"
BUTTON_TOO_OLD_RATING = BUTTON_TOO_OLD + "发送 /myreports 可查看您的反映。"

# Binding group chats.
BIND_USAGE = "用法：在工作群里发送 /bind 工作组代码。可用代码：\n{groups}"
BIND_ONLY_GROUPS = "请在工作组的群聊里发送 /bind。"
BIND_NOT_ADMIN = "无权限：只有区创建办管理员可以绑定工作群。"
BIND_DONE = "已绑定：本群现在是「{group}」的工作群，相关反映会发到这里。"

# When a step fails. Only a report with a ticket number is surely stored, so
# that is all these promise.
ERROR = "抱歉，出了点问题，刚才的操作可能没有完成，请稍后再试。已经拿到工单号的反映不会丢失。"
NOT_SAVED = (
    "⚠️ 抱歉，系统暂时无法保存数据，您刚才的操作没有保存，请稍后再试。已经拿到工单号的反映不会丢失。"
)
REPORT_NOT_SAVED = (
    "⚠️ 抱歉，系统暂时无法保存数据，您的反映这次没有提交成功，还没有工单号。请稍后再点一次提交按钮。"
)
BUSY = "系统繁忙，这次操作没有保存，请稍后再试。"
BUTTON_FAILED = "抱歉，出了点问题，这次操作可能没有完成，请稍后再试。"

QUIZ_START = "📝 文明知识小测验开始！共 {count} 题，每题限时作答。"
QUIZ_TOPICS = "可选的题目类别：{topics}\n例如：/quiz 垃圾分类"
QUIZ_DONE = "🎉 本轮答对 {right}/{total} 题，得 {points} 分！"
QUIZ_MISSED = "❌ {question}\n正确答案：{answer}\n{explanation}"
QUIZ_OFFER = "📬 想每天学一点文明知识吗？订阅后每天早上推送一轮小测验，随时可以 /unsubscribe 退订。"
BUTTON_SUBSCRIBE = "📬 订阅每日答题"
SUBSCRIBED = "已订阅每日答题推送，每天早上见！退订请发 /unsubscribe。"
UNSUBSCRIBED = "已退订每日答题推送。想答题随时发 /quiz。"
PUSH_TEXT = "☀️ 早上好！今天的文明知识小测验准备好了，5 道题，一分钟就能答完。"
PUSH_START = "▶️ 开始答题"
PUSH_NOT_ADMIN = "无权限：只有区创建办管理员可以推送。"
PUSH_STARTED = "已开始推送今天的答题，共 {total} 位订阅者。进度：/push_status"
PUSH_ALREADY = "今天的答题已经推送过（共 {total} 位订阅者），不会重复发送。进度：/push_status"
PUSH_NONE = "还没有推送过。"
PUSH_STATUS = "📬 {day} 的答题推送：已发送 {sent}，待发送 {pending}，失败 {failed}"
PUSH_SKIPPED = "；另有 {skipped} 位微信用户超过 48 小时没有互动，按微信规则无法推送，已跳过"
SURVEY_QUESTION = "📋 您是否支持我区创建全国文明城区？"
SURVEY_CHOICES = {
    "support": "支持",
    "rather": "比较支持",
    "rather_not": "不太支持",
    "against": "不支持",
    "unaware": "不了解",
}
SURVEY_AWARE_QUESTION = "您知道我区正在创建全国文明城区吗？"
SURVEY_AWARE_YES = "知道"
SURVEY_AWARE_NO = "不知道"
SURVEY_THANKS = "感谢您的回答！本轮内可随时修改。"
SURVEY_NONE = "还没有调查数据。"
QUIZ_STATS_TITLE = "📚 答题统计：{people} 人参与，共答 {answers} 题（按正确率从低到高）"
QUIZ_STATS_LINE = "{topic}：{answers} 题，正确率 {accuracy:.0%}"
QUIZ_STATS_HINT = "正确率最低的主题，是宣传教育组最该加强宣传的内容。"
RANK_WEEK = "🏆 本周排行"
RANK_ALL = "🏅 总排行"
RANK_LINE = "{rank}. {name}　{points} 分"
RANK_MINE = "您：第 {rank} 名，{points} 分"
RANK_NONE = "您还没有得分，发 /quiz 来答题吧！"
RANK_EMPTY = "（还没有人得分）"
RANK_STREAK = "🔥 连续答题 {days} 天"

BOT_COMMANDS = [
    ("start", "开始使用"),
    ("myreports", "我的反映"),
    ("status", "查询工单"),
    ("quiz", "文明知识小测验"),
    ("rank", "答题排行"),
    ("subscribe", "订阅每日答题"),
    ("survey", "创建支持率调查"),
    ("help", "使用帮助"),
]

# ---------------------------------------------------------------------------
# WeChat: the Official Account's wording where its ways differ from Telegram's
# (a menu at the bottom instead of commands, numbered choices, no reply-to).

WECHAT_WELCOME = (
    "您好！欢迎关注文明城区随手拍 👋\n"
    "看到乱扔垃圾、闯红灯、室内吸烟、占道经营、违章搭建、小广告、路灯损坏等不文明现象"
    "或公共设施问题，直接发文字、语音或照片告诉我就行。\n\n"
    "📮 怎么反映：\n"
    "1. 发一段文字或语音描述，或发照片；\n"
    "2. 核对我识别的问题类别，可点输入框旁的「＋」发送「位置」；\n"
    "3. 点「确认提交」（或回复它前面的数字），您会收到工单号，每一步进展都会通知您。\n\n"
    "🔒 您反映的文字、照片、位置和时间会保存下来，只转交负责办理的工作组和区创建办，"
    "不会告诉工作组您是谁。\n\n"
    "查看我的反映、每日答题：点下方菜单。查询工单：发送「查询 工单号」。"
)
WECHAT_HELP = (
    "📖 怎么反映\n"
    "• 直接发文字、语音或照片，说清是什么问题；\n"
    "• 点输入框旁的「＋」→「位置」，把地点发给我；\n"
    "• 核对后点「确认提交」，或回复它前面的数字；\n"
    "• 查询某条反映：发送「查询 261128-001」这样的工单号；\n"
    "• 我的反映、每日答题、支持率调查：点下方菜单；\n"
    "• 有疑问直接问我，看到好人好事也欢迎推荐给我。"
)
WECHAT_CHITCHAT = (
    "您好呀 😊 我是文明城区随手拍小助手。看到不文明行为或公共设施损坏，"
    "直接发文字、语音、照片或位置给我就行；想了解更多，回复下面的数字或点下方菜单。"
)
WECHAT_STATUS_USAGE = "查询工单请发送「查询 工单号」，例如：查询 261128-001"
WECHAT_LOCATION_REQUEST = (
    "请点输入框旁的「＋」，选择「位置」，把问题所在的地点发给我；"
    "也可以直接发文字写明地址（如：XX路与XX街交叉口）。"
)
WECHAT_QUIZ_OFFER = "📬 想每天学一点文明知识吗？订阅后每天推送一轮小测验，随时可以回复「退订」。"
WECHAT_UNSUPPORTED = (
    "抱歉，我暂时只能处理文字、语音、照片和位置 🙏 请用文字或语音描述问题，或直接拍照发给我。"
)
WECHAT_VOICE_UNHEARD = "抱歉，这段语音我没听清 🙏 请再说一遍，或者打字告诉我。"
WECHAT_PHOTO_LOST = "抱歉，这张照片没能收到，请再发一次。"
WECHAT_MENU_HEAD = "请选择："
WECHAT_MENU_MORE = "（续上）"
WECHAT_MENU_STALE = "这个选项已经过期了，请重新操作一次。"
# A ticket typed with this word (or alone) asks for that report's status.
WECHAT_STATUS_WORD = "查询"
WECHAT_UNSUBSCRIBE_WORD = "退订"
WECHAT_SUBSCRIBE_WORD = "订阅"

# --- WeChat (the Official Account) --------------------------------------------------
# A msgmenu lists the choices as tappable lines, numbered; its tail repeats them for a
# resident who types the number instead (WeChat's menus carry no data of their own).
WECHAT_MENU_ITEM = "{number}. {label}"
WECHAT_MENU_TYPED = "也可直接回复数字：{choices}"
WECHAT_MENU_TYPED_ITEM = "{number} {label}"
WECHAT_MENU_TYPED_JOIN = "　"
# The rating menu's head when the step's text went on its own (too long for a menu).
WECHAT_RATE_HEAD = "请为工单 {ticket} 的办理打个分："
# WeChat has no "reply to this message": whatever the resident writes next answers.
WECHAT_RELAY_QUESTION = (
    "💬 工单 {ticket}：{group}想向您了解：\n{text}\n"
    "（请直接回复：您发来的下一条消息会作为回答转给{group}）"
)
# Template messages (outside the 48-hour window): each value within WeChat's limits
# (a remark ≤ 20 characters, a status ≤ 5); longer ones are cut.
WECHAT_TEMPLATE_REMARK = {
    "filed": "已转交{group}办理",
    "accept": "{group}正在处理",
    "resolve": "{group}已办结",
    "reject": "{group}已退回",
    "reassign": "已转交{group}办理",
    "merge": "已并入较早的同类工单",
}
WECHAT_TEMPLATE_RATE = "回复{choices}"  # the rating, by number: 回复1满意 2基本满意 3不满意
WECHAT_TEMPLATE_RATE_ITEM = "{number}{label}"
WECHAT_TEMPLATE_ASKED = "待您回复"
WECHAT_TEMPLATE_QUESTION = "工作组有问题问您，请进入公众号回复"

# A quiz asked as texts with choices (a channel without quiz polls: WeChat).
QUIZ_TEXT_QUESTION = "第 {number}/{total} 题：{question}"
QUIZ_TEXT_RIGHT = "✅ 答对了！{explanation}"
QUIZ_TEXT_WRONG = "❌ 正确答案是：{answer}。{explanation}"
QUIZ_TEXT_STALE = "这道题已经答过了，或者这一轮已经结束。想再答一轮，点菜单「每日答题」。"
WECHAT_SUBSCRIBED = "已订阅每日答题推送！退订请回复「退订」。"
WECHAT_UNSUBSCRIBED = "已退订每日答题推送。想答题随时点菜单「每日答题」。"
WECHAT_NICKNAME_WORD = "昵称"
WECHAT_NICKNAME_SET = "好的，排行榜上将显示您的昵称「{name}」。"
WECHAT_NICKNAME_BAD = "昵称请用 1 到 {limit} 个字，例如：昵称 文明小卫士"
# A WeChat resident has no nickname the bot may see: rankings show this unless they set one.
WECHAT_MASKED_NAME = "微信用户·{tag}"
WECHAT_RANK_WORDS = ("排行", "排行榜")
WECHAT_RANK_NONE = (
    "您还没有得分，点菜单「每日答题」来答题吧！想在排行榜上显示昵称，发送「昵称 您的昵称」。"
)
WECHAT_DRAFT_SUBMITTED = (
    "✅ 已提交！工单号：{ticket}\n"
    "类别：{category}\n"
    "已转交{group}办理，办理进展会第一时间通知您。\n"
    "查询进度：发送「查询 {ticket}」"
)
WECHAT_DRAFT_ALREADY_SUBMITTED = (
    "这条反映已经提交过了。\n工单号：{ticket}\n查询进度：发送「查询 {ticket}」"
)
WECHAT_MY_REPORTS_HINT = "查看详情：发送「查询 工单号」"
WECHAT_DRAFT_NO_LOCATION = "📍 位置：未添加（可点「添加位置」，发送位置或直接打字写地址）"
WECHAT_REOPEN_ASK = (
    "很抱歉没让您满意。请直接发一条消息，说说哪里还有问题（{limit}字以内），"
    "我们会把工单 {ticket} 重新交给{group}办理。"
)

# A group's question for the resident, on a channel where a member cannot reply to the
# alert itself (WeCom): a 询问群众 button, then the member's next text is the question.
BUTTON_ASK = "询问群众"
RELAY_ASK_PROMPT = (
    "💬 工单 {ticket}：请直接发送您想问群众的问题（{limit}字以内），"
    "我们会以{group}的名义转给群众，群众看不到您是谁。"
)
WECOM_HELP = "请在工单卡片上点按钮办理；需要填写说明时，我会在这里提示您直接回复。"
WECOM_NO_PERMISSION = "您不是这个工作组的成员，不能办理这个工单。如有需要请联系区创建办。"
WECOM_CHOOSE = "转派给哪个工作组？请回复序号："

# --- WeCom (企业微信): the working groups' cards and messages ------------------
# A case's alert as a WeCom template card (handlers/wecom/cards.py keeps WeCom's limits).
WECOM_CARD_SOURCE = "文明城区·群众反映"
WECOM_CARD_TITLE = "工单 {ticket}｜{category}"
WECOM_CARD_SUBMITTED = "提交于 {time}"
WECOM_CARD_NO_TEXT = "（群众未写文字，见照片）"
WECOM_ROW_STATUS = "状态"
WECOM_ROW_ADDRESS = "地址"
WECOM_ROW_MAP = "位置"
WECOM_MAP_LINK = "点击查看地图"
WECOM_ROW_PHOTOS = "照片"
WECOM_PHOTOS_COUNT = "{count} 张（见下方）"
WECOM_ROW_ACTED = "办理"
WECOM_ACTED = "{action} {actor} {time}"
WECOM_ACTED_NOTE = "{acted}：{note}"
WECOM_ROW_FOLLOWERS = "同反映"
WECOM_FOLLOWERS = "另有 {count} 位群众"
WECOM_ROW_RATING = "评价"
# A card without buttons (nothing left to do, or the case is elsewhere now).
WECOM_CARD_DONE = "{status}，无需再操作。"
# Photos a resident sent on Telegram: their ids mean nothing to WeCom.
WECOM_PHOTOS_ELSEWHERE = "📷 工单 {ticket} 另有 {count} 张照片来自 Telegram，企业微信无法显示。"
WECOM_LOCATION = "📍 工单 {ticket} 的位置：{where}\n🗺 {url}"
WECOM_IP_UNTRUSTED = (
    "⚠️ 企业微信拒绝了本服务器的请求（60020：IP 不在可信名单）。"
    "请在企业微信管理后台「应用管理 → 本应用 → 企业可信IP」中加入本服务器的公网 IP。"
    "发往企业微信的消息都已保留，加入后会自动补发。"
)


# --------------------------------------------------------------------------- quiz bank changes

# A text quiz's answer to a question removed from the bank since it was asked.
QUIZ_TEXT_WITHDRAWN = "这道题已从题库中撤下，不计分。"

# --- Residents' questions answered from faq/ (the answers are in faq/*.toml) ---------
FAQ_LINK = "🔗 详情：{link}"
FAQ_UNANSWERED = (
    "这个问题我暂时回答不了 🙏\n"
    "办事咨询、政务服务请打 12345 政务服务便民热线；"
    "您的问题区创建办会看到，我们会尽快补上答案。"
)
FAQ_GAPS_NOT_ADMIN = "无权限：只有区创建办管理员可以查看群众问到而答不了的问题。"
FAQ_GAPS_USAGE = "用法：/faq_gaps（最近7天），或 /faq_gaps 天数，例如 /faq_gaps 30"
FAQ_GAPS_TITLE = (
    "❓ 最近 {days} 天答不了的问题：{unanswered} 次（已自动回答 {answered} 次），按次数排列："
)
FAQ_GAPS_EMPTY = "最近 {days} 天没有答不了的问题 👍（已自动回答 {answered} 次）"
FAQ_GAPS_LINE = "{count} 次｜{text}"
FAQ_GAPS_NEAREST = "　（最接近：{entry}）"
FAQ_GAPS_MORE = "……另有 {count} 个问题未列出"
FAQ_GAPS_HINT = "在 faq/ 文件夹里补充答案或问法，重启机器人后生效。"

# --- 身边好人: residents recommend good deeds, 宣传教育组 selects them ------------
NOMINATION_TITLE = "🌟 感谢您推荐身边好人好事！我理解的是："
NOMINATION_TEXT = "📝 事迹：{text}"
NOMINATION_NO_TEXT = "📝 事迹：（还没有文字，请直接发送事迹经过）"
NOMINATION_ADDRESS = "📍 地点：{where}"
NOMINATION_NO_ADDRESS = "📍 地点：未提供（可点「添加位置」）"
NOMINATION_OCCURRED = "🕒 时间：{occurred}"
NOMINATION_PHOTOS = "📷 照片：{count} 张"
NOMINATION_MAY_NAME = {
    None: "👤 是否可以公开姓名：未说明（默认不公开）",
    0: "👤 是否可以公开姓名：不公开",
    1: "👤 是否可以公开姓名：可以公开",
}
NOMINATION_HINT = "确认无误请点「提交推荐」；也可以继续发送照片或位置。"
BUTTON_NOMINATION_SUBMIT = "✅ 提交推荐"
BUTTON_NOMINATION_LOCATION = "📍 添加位置"
BUTTON_NOMINATION_NAMED = "可以公开姓名"
BUTTON_NOMINATION_ANONYMOUS = "不公开姓名"
BUTTON_NOMINATION_REPORT = "这是要反映问题"
BUTTON_NOMINATION_CANCEL = "❌ 取消"
NOMINATION_PHOTO_ADDED = "📷 已添加照片（共 {count} 张）。"
NOMINATION_LOCATION_ADDED = "📍 已添加位置。"
NOMINATION_LOCATION_REQUEST = "请点下方「📍 发送当前位置」，把好人好事发生的地点发给我。"
WECHAT_NOMINATION_LOCATION_REQUEST = (
    "请点输入框旁的「＋」，选择「位置」，把好人好事发生的地点发给我。"
)
NOMINATION_SUBMITTED = "✅ 已转给{group}，谢谢您传递正能量！入选本周好人好事榜时我们会告诉您。"
NOMINATION_CANCELLED = "已取消这次推荐。"
NOMINATION_CLOSED = "这条推荐已经提交或取消，不能再修改。"
NOMINATION_TO_REPORT = "好的，已转为问题反映，内容、照片和位置都保留了："
# A resident whose case was resolved lately: thanks for it, or a good deed?
THANKS_ASK = "🙏 是感谢 {ticket} 的办理吗？"
BUTTON_THANKS_YES = "是，转达感谢"
BUTTON_THANKS_NO = "不是，推荐好人好事"
THANKS_SENT = "❤️ 已把您的感谢转达给{group}，谢谢您的支持！"
THANKS_TO_GROUP = "❤️ 群众致谢 {ticket}：{text}"
# The praise group's alert, and what a decision makes of it.
NOMINATION_ALERT_TITLE = "🌟 群众推荐身边好人好事 #{id}"
NOMINATION_ALERT_SENT = "🕒 推荐于 {time}"
NOMINATION_ALERT_OPEN = "请选择是否选入本周好人好事。"
NOMINATION_ALERT_SELECTED = "✅ 已选入好人好事 — 选定人 {name}（{time}）"
NOMINATION_ALERT_DECLINED = "⏸ 暂不选入 — {name}（{time}）"
BUTTON_NOMINATION_SELECT = "选入好人好事"
BUTTON_NOMINATION_DECLINE = "暂不选入"
NOMINATION_SELECT_DONE = "已选入好人好事，已告知推荐的群众。"
NOMINATION_DECLINE_DONE = "已记录为暂不选入。"
NOMINATION_DECIDED_ALREADY = "这条推荐已经处理过了。"
NOMINATION_NO_PERMISSION = "只有宣传教育组成员和管理员可以评选好人好事。"
NOMINATION_SELECTED_RESIDENT = "🎉 您推荐的好人好事已入选本周好人好事榜，谢谢您！\n「{text}」"
WECOM_NOMINATION_SOURCE = "文明城区·身边好人"
WECOM_NOMINATION_TITLE = "群众推荐好人好事 #{id}"
WECOM_ROW_OCCURRED = "时间"
WECOM_ROW_NAMED = "公开姓名"
WECOM_NAMED = {None: "未说明", 0: "不公开", 1: "可以公开"}
# The weekly report's list.
WEEKLY_NOMINATIONS_TITLE = "🌟 本周好人好事（{count} 件）："
WEEKLY_NOMINATION_ITEM = "{number}. {text}（{where}，{occurred}）{anonymous}"
WEEKLY_NOMINATION_NOWHERE = "地点未提供"
WEEKLY_NOMINATION_ANONYMOUS = "（不公开姓名）"
WEEKLY_NOMINATIONS_NONE = "🌟 本周好人好事：本周没有选入的推荐。"
STATS_NOMINATIONS = "🌟 选入好人好事：{count} 件"

# --- Areas: the community (社区), village (村) or key road section (路段) of a case ----
# reports/areas.py places a case; these show where it is in alerts, /status, /myreports,
# the CSV, the leaders' copies, /stats and the 通报 map.
AREA_ROAD = "{name}（重点路段）"
ALERT_AREA = "🏘 区域：{area}"
STATUS_AREA = "区域：{area}"
MY_REPORTS_AREA = "{line}　{area}"
WECOM_ROW_AREA = "区域"
EXPORT_HEADERS["area"] = "区域"  # the CSV's column, after 地址
DIGEST_AREA_ITEM = "{ticket}·{area}"  # a case in the daily digest, where it is


# --------------------------------------------------------------------------- survey (issue 13)
# The survey made defensible: who answers (profile), why not, the volunteer indicator,
# and the office's figures against the assessment's 90%.

SURVEY_REASON_QUESTION = "您不太支持的主要原因是？（可选，可跳过）"
SURVEY_REASONS = {
    "daily_life": "影响生活/出行",
    "publicity": "宣传不到位",
    "formalism": "形式主义",
    "unsolved": "问题反映了没解决",
    "other": "其他",
}
SURVEY_REASON_SKIP = "跳过"
SURVEY_REASON_MORE = "谢谢！如愿意，可直接回复文字写下具体原因或建议（可不填）。"
SURVEY_REASON_NOTED = "已记下您的意见，宣传教育组会汇总研究。谢谢！"
SURVEY_VOLUNTEER_QUESTION = "您对本区的志愿服务活动认同和支持吗？"
SURVEY_PROFILE_INTRO = "为了让调查结果更准确，请再回答几个简单问题（只问一次，可随时修改）："
SURVEY_COMMUNITY_QUESTION = "您住在哪个社区或村？"
SURVEY_COMMUNITY_PAGE = "您住在哪个社区或村？（第 {page}/{pages} 页）"
SURVEY_COMMUNITY_MORE = "更多社区/村 ▶"
SURVEY_COMMUNITY_OUTSIDE = "不在本区"
SURVEY_COMMUNITY_UNDISCLOSED = "不方便说"
SURVEY_AGE_QUESTION = "您的年龄是？"
SURVEY_AGES = {"under_18": "18岁以下", "18_65": "18至65岁", "over_65": "超过65岁"}
SURVEY_LIVED_QUESTION = "您在本区居住满6个月了吗？"
SURVEY_LIVED = {"yes": "是", "no": "否"}
SURVEY_DONE = "感谢您参与调查！本轮内可随时修改答案，发 /survey 重新作答。"
SURVEY_PROFILE_SAVED = "您的信息已保存，谢谢！"
SURVEY_EDIT_PROFILE = "✏️ 修改我的信息"
SURVEY_STATS_NOT_ADMIN = "无权限：只有区创建办管理员可以查看调查统计。"
SURVEY_STATS_HEAD = "📋 创建支持率调查（{day} 起的一轮，目标 90%）"
SURVEY_STATS_COUNTS = (
    "评估口径内（18–65岁、居住满6个月{in_district}）：{inside} 份；口径外另计 {outside} 份{why}"
)
SURVEY_STATS_IN_DISTRICT = "、本区社区/村"
SURVEY_OUT_REASONS = {
    "age": "年龄不在18–65岁",
    "short": "居住不满6个月",
    "district": "不在本区",
    "unknown": "未填全信息",
}
SURVEY_MEASURES = {"support": "支持率", "aware": "知晓率", "volunteer": "志愿服务认同支持率"}
SURVEY_WEIGHTED_LINE = "{mark} {measure}：{rate}（95%区间 {low}–{high}）"
SURVEY_UNWEIGHTED_LINE = "{measure}：{rate}（95%区间 {low}–{high}，{n} 份）"
SURVEY_MARKS = "✅ 区间下限也达到90%　⚠️ 估计值达到但区间跨过90%　❌ 未达到90%"
SURVEY_NO_RATE = "{measure}：暂无"
SURVEY_WEIGHTED_TITLE = "按社区人口加权的全区数字（覆盖人口 {covered}，有效样本量 {n_eff}）："
SURVEY_NOT_WEIGHTED = "未配置社区（[areas] file）：不问社区，不加权，以下为口径内未加权数字。"
SURVEY_UNWEIGHTED_TITLE = "口径内未加权："
SURVEY_COMMUNITY_TITLE = "各社区/村（份数｜支持率｜知晓率｜志愿服务）："
SURVEY_COMMUNITY_LINE = "{name}：{n}｜{support}｜{aware}｜{volunteer}{flag}"
SURVEY_TOO_FEW = " ⚠️样本不足"
SURVEY_UNCOVERED = "没有答卷的社区/村不参与加权（视同与其他社区相同）。"
SURVEY_TREND_TITLE = "— 历轮走势（有分区时为加权值，否则为口径内）—"
SURVEY_TREND_LINE = "{day} 起：{rates}（口径内 {n} 份）"
SURVEY_CHART_TREND = "历轮支持率、知晓率、志愿服务认同支持率（虚线为 90% 目标）"
SURVEY_CHART_COMMUNITIES = "各社区/村支持率及95%区间（虚线为 90% 目标；灰色为样本不足）"
SURVEY_REASONS_NOT_ALLOWED = "无权限：只有区创建办管理员和{group}可以查看不支持的原因。"
SURVEY_REASONS_TITLE = "🗒 本轮「不太支持/不支持」的原因（{day} 起）："
SURVEY_REASONS_LINE = "{reason}：{count} 人"
SURVEY_REASONS_NONE = "本轮还没有人说明不支持的原因。"
SURVEY_REASONS_TEXTS = "最近的文字意见："
SURVEY_REASONS_TEXT_LINE = "• {time} {text}"
SURVEY_REASONS_HINT = "人数最多的原因，就是最能提高支持率的工作方向。"
SURVEY_EXPORT_CAPTION = "调查答卷导出：共 {count} 份（不含群众身份信息）。"
SURVEY_EXPORT_HEADERS = {
    "round_id": "轮次",
    "at": "时间",
    "community": "社区/村",
    "age": "年龄段",
    "lived": "居住满6个月",
    "support": "支持创建",
    "aware": "知晓创建",
    "volunteer": "志愿服务认同支持",
    "reason": "不支持原因",
    "reason_text": "原因说明",
}
SURVEY_YES_NO = {True: "是", False: "否"}

# --- Areas: the leaders' read-only copies (领导帮包), /stats per area and the 通报 map ------
# A copy has no buttons: the working group acts, the leader follows.
LEADER_COPY_ALERT = "【抄送】{area}：新反映（由{group}办理，仅供知悉）"
LEADER_COPY_ESCALATION = "【抄送】{area}：超时督办（仅供知悉）"
REFUSAL_WHAT["leader_copy"] = "抄送区域负责人的消息"
# The office's notice when a leader cannot get copies (once per leader and channel).
LEADER_REFUSED_NOTICE = (
    "⚠️ 抄送无法送达：{area}负责人{name}在 {channel} 上收不到抄送（{reason}）。\n"
    "请提醒{name}先在 Telegram 私聊机器人发送 /start（企业微信：核对 userid），"
    "此后的抄送会正常送达；在此之前不再重发、也不再提醒。"
)
LEADER_CHANNELS = {"telegram": "Telegram", "wecom": "企业微信"}
# /stats per area: the 通报 ranking by the mean of the three rates.
STATS_BY_AREA = "— 按区域（{min_cases} 件及以上参与排名）—"
STATS_AREA_RANKED = (
    "{place}. {name}：{cases} 件｜按时受理 {response}｜办结 {resolution}｜满意 {satisfaction}"
    "｜综合 {score}"
)
STATS_AREA_UNRANKED = (
    "（不排名）{name}：{cases} 件｜按时受理 {response}｜办结 {resolution}｜满意 {satisfaction}"
)
STATS_AREA_QUIET = "无反映：{names}"
STATS_AREA_MORE = "……另有 {count} 行未列出"
# The 通报 map: each area coloured by its open cases.
AREA_MAP_TITLE = "各区域在办问题分布（截至 {date}）"
AREA_MAP_LEGEND = "在办工单（件）"
AREA_MAP_LABEL = "{name}\n{count} 件"
