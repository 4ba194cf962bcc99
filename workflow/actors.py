"""Who performs an action: recorded on every event and checked by the lifecycle's authorisation."""

from __future__ import annotations

from dataclasses import dataclass

from storage.models import ActorKind, AgencyContact, Citizen, ContactRole, WebRole, WebUser


@dataclass(frozen=True)
class Actor:
    kind: ActorKind
    id: int | None
    agency_id: int | None = None
    role: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", ActorKind(self.kind))

    @classmethod
    def citizen(cls, citizen: Citizen) -> Actor:
        return cls(ActorKind.CITIZEN, citizen.id)

    @classmethod
    def contact(cls, contact: AgencyContact) -> Actor:
        return cls(ActorKind.CONTACT, contact.id, contact.agency_id, contact.role)

    @classmethod
    def web_user(cls, user: WebUser) -> Actor:
        return cls(ActorKind.WEB_USER, user.id, user.agency_id, user.role)

    @classmethod
    def system(cls) -> Actor:
        """The service itself: intake without a citizen, the timekeeper."""
        return cls(ActorKind.SYSTEM, None)

    @property
    def is_oversight(self) -> bool:
        """Oversight by role: an oversight contact (效能办), an oversight web user, or an oversight actor."""
        if self.kind == ActorKind.OVERSIGHT:
            return True
        if self.kind == ActorKind.CONTACT:
            return self.role == ContactRole.OVERSIGHT
        return self.kind == ActorKind.WEB_USER and self.role == WebRole.OVERSIGHT

    @property
    def acts_for_agency(self) -> bool:
        """Whether this actor may handle complaints for ``agency_id`` (web viewers only look)."""
        return self.kind == ActorKind.CONTACT and self.agency_id is not None
