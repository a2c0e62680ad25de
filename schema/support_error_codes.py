"""The userError codes of the support, streams, platform and notification domains, each value
described (schema/error_codes.py lists every enum; these are apart only to keep it short)."""

from __future__ import annotations

from schema.enums import documented_enum
from services.notifications.errors import NotificationErrorCode
from services.platform.errors import PlatformErrorCode
from services.streams.errors import StreamErrorCode
from services.tickets.errors import TicketErrorCode

__all__ = ["NotificationErrorCode", "PlatformErrorCode", "StreamErrorCode", "TicketErrorCode"]

ST = StreamErrorCode
PL = PlatformErrorCode
NE = NotificationErrorCode
TK = TicketErrorCode

documented_enum(
    StreamErrorCode,
    "userError codes of the stream and moderation mutations.",
    {
        ST.TOO_LONG: "Over the field's maximum length (stated in its description), or empty where required.",
        ST.TITLE_REQUIRED: "A stream needs a title.",
        ST.TOO_MANY_TAGS: "At most 20 tags.",
        ST.INVALID_TRANSITION: "The stream's status does not allow this (viewers of a stream not LIVE).",
        ST.INVALID_VIEWER_COUNT: "A viewer count is 0 or more.",
        ST.NOT_FOUND: "No such user or stream in your tenant.",
        ST.ALREADY_RESOLVED: "The report is closed already.",
    },
)


documented_enum(
    PlatformErrorCode,
    "userError codes of the platform-operations mutations (maintenance, announcements, flags, "
    "help links, client error reports).",
    {
        PL.TOO_LONG: "Over the field's maximum length (stated in its description).",
        PL.REQUIRED: "The field may not be empty.",
        PL.INVALID_WINDOW: "An announcement ends after it starts; times carry a timezone offset.",
        PL.INVALID_NAME: "A name or key is 1 to 64 of a-z, 0-9, '.', '_' and '-'.",
        PL.INVALID_URL: "A help link is an http(s) URL.",
        PL.TOO_LARGE: "A client error report is at most 64 KiB (16 KiB of extra JSON).",
    },
)


documented_enum(
    NotificationErrorCode,
    "userError codes of the notification mutations.",
    {
        NE.NOT_FOUND: "No notification of yours has this id (anyone else's looks the same).",
        NE.TOO_MANY: "More ids, recipients or changes than one call takes (see the message).",
        NE.REQUIRED: "The field needs a value: a title, at least one id or recipient.",
        NE.TOO_LONG: "Over the field's maximum size (stated in its description).",
        NE.INVALID_LINK: "A link is an https URL or a path of the app starting with /.",
        NE.USER_NOT_FOUND: "A recipient is no user of the tenant.",
        NE.DUPLICATE: "The same type and channel were named twice.",
        NE.INVALID_SUBSCRIPTION: "A push endpoint (https) or key (p256dh: 65 bytes, auth: 16) "
        "that does not hold.",
        NE.TEMPLATE_SYNTAX: "The template does not parse, or fails as it renders (the message says where).",
        NE.TEMPLATE_UNDEFINED: "The template names a variable that does not exist.",
        NE.TEMPLATE_FORBIDDEN: "The template reaches for something outside its sandbox.",
        NE.TEMPLATE_TOO_LARGE: "The rendered result is too long, or took too long to render.",
    },
)


documented_enum(
    TicketErrorCode,
    "userError codes of the support ticket mutations.",
    {
        TK.INVALID_TRANSITION: "The ticket's status does not allow this move (nothing changed).",
        TK.REQUIRED: "A required text (subject, description, comment) is empty.",
        TK.TOO_LONG: "Over the field's maximum length (stated in its description).",
        TK.NOT_FOUND: "The related order or provisioning request does not exist or is out of your reach.",
        TK.NOT_ALLOWED: "Only support staff set this (the priority, an internal note).",
        TK.ASSIGNEE_NOT_AGENT: "Not an active support agent or staff member of the tenant.",
        TK.REOPEN_WINDOW_EXPIRED: "The reopening window after resolution has passed: open a new ticket.",
        TK.TICKET_CLOSED: "A CLOSED ticket takes no comments: reopen it first.",
    },
)
