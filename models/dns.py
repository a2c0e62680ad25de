"""DNS: hosted zones and their records, zone templates (platform-level), and the IP addresses a
platform admin allocates to a tenant, with their reverse-DNS (PTR) names."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, TenantOwned, new_id, utcnow
from models.identity.accounts import enum_column


class DnsZoneStatus(enum.StrEnum):
    PENDING_VERIFICATION = "PENDING_VERIFICATION"
    ACTIVE = "ACTIVE"
    SUSPENDED = "SUSPENDED"


class DnsRecordType(enum.StrEnum):
    A = "A"
    AAAA = "AAAA"
    CNAME = "CNAME"
    MX = "MX"
    TXT = "TXT"
    NS = "NS"
    SRV = "SRV"
    CAA = "CAA"
    PTR = "PTR"


class DnsZoneTemplate(Base):
    """A named set of records (platform-wide) a new zone may start with."""

    __tablename__ = "dns_zone_templates"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    # Each item: {"type", "name", "content", "ttl", "priority", "weight", "port", "flags", "tag"}.
    records: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DnsZone(TenantOwned, Base):
    __tablename__ = "dns_zones"
    # One zone name once across every tenant (a global index: the tenancy guard cannot see it).
    __table_args__ = (
        UniqueConstraint("name"),
        Index("ix_dns_zones_tenant_name", "tenant_id", "name", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    # The FQDN in IDNA (punycode) form, lower case, without the final dot.
    name: Mapped[str] = mapped_column(String(253))
    status: Mapped[DnsZoneStatus] = mapped_column(
        enum_column(DnsZoneStatus), default=DnsZoneStatus.PENDING_VERIFICATION
    )
    nameservers: Mapped[list[str]] = mapped_column(JSON, default=list)
    soa_mname: Mapped[str] = mapped_column(String(253))
    soa_rname: Mapped[str] = mapped_column(String(253))
    # Strictly increasing on every change of the zone or its records (YYYYMMDDnn while it fits).
    serial: Mapped[int] = mapped_column(BigInteger)
    refresh: Mapped[int]
    retry: Mapped[int]
    expire: Mapped[int]
    minimum: Mapped[int]
    default_ttl: Mapped[int]
    template_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("dns_zone_templates.id", ondelete="SET NULL")
    )
    # The last NS-delegation check: when, what the resolver answered, what it means.
    checked_at: Mapped[datetime | None]
    check_delegated: Mapped[bool | None]
    check_nameservers: Mapped[list[str]] = mapped_column(JSON, default=list)
    check_message: Mapped[str | None] = mapped_column(String(500))
    verified_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class DnsRecord(TenantOwned, Base):
    __tablename__ = "dns_records"
    __table_args__ = (Index("ix_dns_records_zone_name", "zone_id", "name", "id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    zone_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("dns_zones.id", ondelete="CASCADE"))
    # Relative to the zone ("@" for the apex), IDNA form, lower case.
    name: Mapped[str] = mapped_column(String(253))
    type: Mapped[DnsRecordType] = mapped_column(enum_column(DnsRecordType))
    # The address, target host (FQDN without the final dot), text or CAA value.
    content: Mapped[str] = mapped_column(Text)
    ttl: Mapped[int]
    priority: Mapped[int | None]  # MX preference, SRV priority
    weight: Mapped[int | None]  # SRV
    port: Mapped[int | None]  # SRV
    flags: Mapped[int | None]  # CAA
    tag: Mapped[str | None] = mapped_column(String(16))  # CAA: issue, issuewild, iodef
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class IpAllocation(TenantOwned, Base):
    """An IP address a platform admin allocated to a tenant: only its tenant sets its PTR."""

    __tablename__ = "dns_ip_allocations"
    __table_args__ = (UniqueConstraint("address"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    # Canonical text (ipaddress's compressed form).
    address: Mapped[str] = mapped_column(String(45))
    ptr: Mapped[str | None] = mapped_column(String(253))
    ptr_updated_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
