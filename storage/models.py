"""The data model. Status, role and action values are plain strings backed by StrEnums, so adding
one needs no database enum migration; the enums are the single list of allowed values.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    event,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from storage.types import Json, UtcDateTime, utcnow
from storage.vocabulary import AgencyRole

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UtcDateTime, dict[str, Any]: Json, list[Any]: Json, list[str]: Json}


class Timestamped:
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


# --- agencies and the people who act for them --------------------------------------------------


class Agency(Timestamped, Base):
    __tablename__ = "agency"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    aliases: Mapped[list[str]] = mapped_column(default=list)
    area: Mapped[str | None] = mapped_column(String(20))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id", ondelete="SET NULL"))
    role: Mapped[str] = mapped_column(String(20), default=AgencyRole.AGENCY)
    #: Published service promise (服务承诺制), in working days; None means the policy default.
    promised_resolve_days: Mapped[int | None]
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    parent: Mapped[Agency | None] = relationship(remote_side=[id])


class CatalogueInfo(Base):
    """What the imported catalogue says of itself (one row, ``id`` 1): its city or county, which the
    publication's title names. Kept with the agencies it came with, so the database is the one source
    whatever file the settings point at."""

    __tablename__ = "catalogue_info"

    id: Mapped[int] = mapped_column(primary_key=True)
    region: Mapped[str] = mapped_column(String(64))


class ContactRole(StrEnum):
    CLERK = "clerk"
    LEAD = "lead"
    OVERSIGHT = "oversight"


class AgencyContact(Timestamped, Base):
    """A Telegram user acting for an agency; one agency per Telegram user."""

    __tablename__ = "agency_contact"

    id: Mapped[int] = mapped_column(primary_key=True)
    telegram_user_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    display_name: Mapped[str] = mapped_column(String(200), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    revoked_at: Mapped[datetime | None]

    agency: Mapped[Agency] = relationship()


class InviteCode(Base):
    """One-time code with which a Telegram user becomes an agency contact (/bind CODE)."""

    __tablename__ = "invite_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"))
    role: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    used_by_contact_id: Mapped[int | None] = mapped_column(ForeignKey("agency_contact.id"))
    #: Set when the office withdraws an unused code; /bind then refuses it as expired.
    revoked_at: Mapped[datetime | None]


# --- citizens and their complaints --------------------------------------------------------------


class Citizen(Timestamped, Base):
    __tablename__ = "citizen"

    id: Mapped[int] = mapped_column(primary_key=True)
    telegram_user_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    #: "zh-Hans" or "zh-Hant": the script the citizen reads.
    language: Mapped[str] = mapped_column(String(10), default="zh-Hans")
    prefers_anonymity: Mapped[bool] = mapped_column(Boolean, default=False)
    display_name: Mapped[str] = mapped_column(String(200), default="")


class Channel(StrEnum):
    TELEGRAM = "telegram"
    WEB = "web"


class ComplaintStatus(StrEnum):
    REGISTERED = "registered"  # stored, tracking number given, not yet routed
    ASSIGNED = "assigned"  # with its first-contact owner, awaiting acceptance (首问)
    TRANSFERRING = "transferring"  # 转办 proposed; owner stays answerable until the receiver accepts
    DISPUTED = "disputed"  # declined twice: oversight rules (审定)
    ACCEPTED = "accepted"  # 受理: in handling under the time limit (限时办结)
    RESOLVED = "resolved"  # replied to the citizen, awaiting rating
    CLOSED = "closed"  # rated, or rating window passed
    WITHDRAWN = "withdrawn"  # by the citizen


#: What staff read for each status (dashboard, rectification notices): one set of words everywhere.
STATUS_NAMES: dict[ComplaintStatus, str] = {
    ComplaintStatus.REGISTERED: "已登记",
    ComplaintStatus.ASSIGNED: "待受理",
    ComplaintStatus.TRANSFERRING: "转办中",
    ComplaintStatus.DISPUTED: "争议待审定",
    ComplaintStatus.ACCEPTED: "办理中",
    ComplaintStatus.RESOLVED: "已办结待评价",
    ComplaintStatus.CLOSED: "已结案",
    ComplaintStatus.WITHDRAWN: "已撤回",
}


#: Statuses in which a complaint is still someone's open work.
OPEN_STATUSES = frozenset(
    {
        ComplaintStatus.REGISTERED,
        ComplaintStatus.ASSIGNED,
        ComplaintStatus.TRANSFERRING,
        ComplaintStatus.DISPUTED,
        ComplaintStatus.ACCEPTED,
    }
)


class Priority(StrEnum):
    NORMAL = "normal"
    URGENT = "urgent"
    COMPLEX = "complex"


class Complaint(Timestamped, Base):
    __tablename__ = "complaint"
    __table_args__ = (
        Index("ix_complaint_owner_status", "owner_agency_id", "status"),
        Index("ix_complaint_created", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: ``YYYYMMDD-NNNN`` in local time: short, readable, no personal data.
    tracking_no: Mapped[str] = mapped_column(String(20), unique=True)
    channel: Mapped[str] = mapped_column(String(20), default=Channel.TELEGRAM)
    citizen_id: Mapped[int | None] = mapped_column(ForeignKey("citizen.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default=ComplaintStatus.REGISTERED)
    priority: Mapped[str] = mapped_column(String(20), default=Priority.NORMAL)

    text: Mapped[str] = mapped_column(Text)  # as the citizen wrote it, never altered
    normalized_text: Mapped[str] = mapped_column(Text, default="")
    #: The tagger's full result (candidates, evidence with offsets into ``text``) for display.
    tagging: Mapped[dict[str, Any]] = mapped_column(default=dict)
    area: Mapped[str | None] = mapped_column(String(20))
    tag_confidence: Mapped[float | None] = mapped_column(Float)

    #: 首问责任单位: the agency the complaint first landed on; never changes.
    first_contact_agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"))
    #: The agency answerable now: the first-contact agency until a receiver accepts.
    owner_agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"))
    #: A transfer (转办) awaiting the receiver's acceptance.
    transfer_to_agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"))
    transfer_declines: Mapped[int] = mapped_column(Integer, default=0)

    acknowledge_due_at: Mapped[datetime | None]
    resolve_due_at: Mapped[datetime | None]
    acknowledged_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    extended_days: Mapped[int] = mapped_column(Integer, default=0)
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)
    reply_text: Mapped[str | None] = mapped_column(Text)

    major: Mapped[bool] = mapped_column(Boolean, default=False)  # 挂牌督办
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    contact_phone: Mapped[str | None] = mapped_column(String(32))
    location_text: Mapped[str | None] = mapped_column(String(500))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)

    #: Optimistic lock: two clerks (or a double tap) acting at once cannot both win.
    version: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = {"version_id_col": version}

    citizen: Mapped[Citizen | None] = relationship()
    first_contact_agency: Mapped[Agency | None] = relationship(foreign_keys=[first_contact_agency_id])
    owner_agency: Mapped[Agency | None] = relationship(foreign_keys=[owner_agency_id])
    transfer_to_agency: Mapped[Agency | None] = relationship(foreign_keys=[transfer_to_agency_id])
    problems: Mapped[list[ComplaintProblem]] = relationship(
        back_populates="complaint", cascade="all, delete-orphan", order_by="ComplaintProblem.id"
    )
    events: Mapped[list[ComplaintEvent]] = relationship(
        back_populates="complaint", order_by="ComplaintEvent.id", viewonly=True
    )
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="complaint", cascade="all, delete-orphan", order_by="Attachment.id"
    )


class ComplaintProblem(Base):
    """One problem type on a complaint, kept as rows so reports can GROUP BY it."""

    __tablename__ = "complaint_problem"
    __table_args__ = (UniqueConstraint("complaint_id", "problem_type"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaint.id", ondelete="CASCADE"))
    problem_type: Mapped[str] = mapped_column(String(20), index=True)
    #: Matched words with offsets into the complaint's original text.
    evidence: Mapped[list[Any]] = mapped_column(default=list)

    complaint: Mapped[Complaint] = relationship(back_populates="problems")


class TrackingCounter(Base):
    """Per-day sequence behind tracking numbers, incremented atomically with an upsert."""

    __tablename__ = "tracking_counter"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)


class EventAction(StrEnum):
    """Everything that can happen to a complaint; the monthly figures are derived from these."""

    REGISTERED = "registered"
    ASSIGNED = "assigned"  # to the first-contact agency (or the default owner)
    ACCEPTED = "accepted"  # 受理
    TRANSFER_REQUESTED = "transfer_requested"  # 转办
    TRANSFER_ACCEPTED = "transfer_accepted"
    TRANSFER_DECLINED = "transfer_declined"  # 退回, with its basis
    TRANSFER_WITHDRAWN = "transfer_withdrawn"  # 撤回转办 by the sender before the receiver answers
    DISPUTE_RULED = "dispute_ruled"  # 审定 by oversight
    EXTENSION_REQUESTED = "extension_requested"  # 延期
    EXTENSION_APPROVED = "extension_approved"
    EXTENSION_REFUSED = "extension_refused"
    RESOLVED = "resolved"  # 办结, reply sent to the citizen
    RATED = "rated"
    REOPENED = "reopened"  # 重办
    CLOSED = "closed"
    WITHDRAWN = "withdrawn"
    MAJOR_SET = "major_set"  # 挂牌督办
    MAJOR_CLEARED = "major_cleared"  # 消号
    REMINDED = "reminded"  # 预警 before a deadline
    URGED = "urged"  # 催办 after a missed deadline
    ESCALATED = "escalated"  # 督办 to oversight; counts against the agency
    NOTE = "note"


class ActorKind(StrEnum):
    CITIZEN = "citizen"
    CONTACT = "contact"
    OVERSIGHT = "oversight"
    WEB_USER = "web_user"
    SYSTEM = "system"


class ComplaintEvent(Base):
    """Append-only audit log: who did what, when, from → to, and why."""

    __tablename__ = "complaint_event"
    __table_args__ = (Index("ix_complaint_event_action_at", "action", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaint.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    action: Mapped[str] = mapped_column(String(30))
    actor_kind: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[int | None]
    #: The agency on whose record the event counts (escalations, declines, on-time figures).
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str | None] = mapped_column(String(20))
    from_agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"))
    to_agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"))
    reason: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)

    complaint: Mapped[Complaint] = relationship(back_populates="events")


@event.listens_for(ComplaintEvent, "before_update")
@event.listens_for(ComplaintEvent, "before_delete")
def _events_are_append_only(mapper: Any, connection: Any, target: ComplaintEvent) -> None:
    raise PermissionError("complaint events are append-only")


class ComplaintTimer(Base):
    """A due moment the timekeeper acts on (reminder, 催办, 督办, a rating window's end); done once, whoever
    runs it."""

    __tablename__ = "complaint_timer"
    __table_args__ = (
        UniqueConstraint("complaint_id", "kind", "due_at"),
        Index("ix_complaint_timer_pending", "done_at", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaint.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(30))
    due_at: Mapped[datetime]
    done_at: Mapped[datetime | None]
    cancelled: Mapped[bool] = mapped_column(Boolean, default=False)


class Attachment(Base):
    __tablename__ = "attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaint.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # photo | document
    telegram_file_id: Mapped[str] = mapped_column(String(255))
    telegram_file_unique_id: Mapped[str | None] = mapped_column(String(100))
    file_name: Mapped[str | None] = mapped_column(String(255))
    mime_type: Mapped[str | None] = mapped_column(String(100))
    size: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    complaint: Mapped[Complaint] = relationship(back_populates="attachments")


class EvaluationKind(StrEnum):
    COMPLAINT_RATING = "complaint_rating"  # 满意度测评 after closure
    AGENCY_EVALUATION = "agency_evaluation"  # standalone short 评议 of an agency


class Evaluation(Base):
    __tablename__ = "evaluation"
    __table_args__ = (Index("ix_evaluation_agency_created", "agency_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"))
    complaint_id: Mapped[int | None] = mapped_column(ForeignKey("complaint.id", ondelete="CASCADE"))
    citizen_id: Mapped[int | None] = mapped_column(ForeignKey("citizen.id"))
    rating: Mapped[str] = mapped_column(String(10))  # a vocabulary.Rating value
    #: Optional 1–5 scores by evaluation dimension (vocabulary.EVALUATION_DIMENSIONS).
    scores: Mapped[dict[str, Any]] = mapped_column(default=dict)
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


# --- delivery and channels ----------------------------------------------------------------------


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"  # permanent: blocked by the user, chat gone, retries exhausted
    WITHDRAWN = "withdrawn"  # a timer's held notice whose deadline no longer applies (outbox.withdraw_held)


class OutboxMessage(Base):
    """A message to deliver, written in the same transaction as the change that causes it."""

    __tablename__ = "outbox_message"
    __table_args__ = (Index("ix_outbox_pending", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(40))
    #: Text and reply markup, ready for sendMessage.
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    complaint_id: Mapped[int | None] = mapped_column(ForeignKey("complaint.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(20), default=OutboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    #: Both set by ``workflow.outbox.enqueue`` from the workflow clock, never the wall clock's default:
    #: a row stamped with the real date is never due under a clock behind it.
    next_attempt_at: Mapped[datetime]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    #: What Telegram made of it: the id of the message that carries its buttons (the last piece of a
    #: long one) and the script it was written in, so a question decided elsewhere can be shown as
    #: decided on every copy, as it was sent (``workflow.outbox.sent_copies``).
    sent_message_id: Mapped[int | None] = mapped_column(BigInteger)
    sent_language: Mapped[str | None] = mapped_column(String(16))


class ProcessedUpdate(Base):
    """Telegram update ids already handled, so a redelivered update acts once."""

    __tablename__ = "processed_update"

    bot_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    processed_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class FsmRecord(Base):
    """Durable aiogram FSM state and data: a restart mid-conversation loses nothing."""

    __tablename__ = "fsm_record"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    state: Mapped[str | None] = mapped_column(String(200))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class PublicationSnapshot(Base):
    """A release of a month: its public publication exactly as an oversight officer released it after its
    cut-off. The month's row not withdrawn is what makes it public; later changes to the records (a 重办
    clears ``resolved_at``) must not alter it. `minsheng publication reissue` withdraws it (who, when,
    why) and keeps it for the office, taking the month back to unreleased until it is released again:
    a month has at most one current row (``ix_publication_snapshot_current``) and any withdrawn ones."""

    __tablename__ = "publication_snapshot"
    __table_args__ = (
        Index(
            "ix_publication_snapshot_current",
            "month",
            unique=True,
            sqlite_where=text("withdrawn_at IS NULL"),
            postgresql_where=text("withdrawn_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[date] = mapped_column(Date)  # the month's first day
    html: Mapped[str] = mapped_column(Text)
    csv: Mapped[bytes] = mapped_column(LargeBinary)
    xlsx: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime]  # when it was released (rendered and stored in the same act)
    # Who released it: a dashboard username, or "cli:LOGIN"; None for a month stored by its first
    # public reader before releasing existed.
    released_by: Mapped[str | None] = mapped_column(String(100))
    withdrawn_at: Mapped[datetime | None]  # None: the month's current publication
    withdrawn_by: Mapped[str | None] = mapped_column(String(100))
    withdraw_reason: Mapped[str | None] = mapped_column(Text)


# --- the web side ------------------------------------------------------------------------------


class WebRole(StrEnum):
    OVERSIGHT = "oversight"
    AGENCY_VIEWER = "agency_viewer"


class WebUser(Timestamped, Base):
    __tablename__ = "web_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20))
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    #: Signed into every session cookie; logging out bumps it, ending the user's sessions everywhere.
    session_epoch: Mapped[int] = mapped_column(Integer, default=0)


class ApiToken(Base):
    """Token for the JSON API; only its hash is stored."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(128), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]
