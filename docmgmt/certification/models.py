"""Certification: clause-to-evidence mappings, the certificate and its surveillance schedule,
and evidence packs built for an audit period."""

from datetime import date, datetime

from sqlalchemy import JSON, Date, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from docmgmt.clock import utcnow
from docmgmt.extensions import db
from docmgmt.versioning.models import Document

# GB/T 27922-2011 clauses named in DOMAIN.md: code, Chinese, English.
CLAUSES = [
    ("5.1.1", "组织架构", "organisation"),
    ("5.1.2", "人员配置", "staffing"),
    ("5.1.3", "资源配置", "resources"),
    ("5.1.4", "规范要求", "rules"),
    ("5.1.5", "监管", "supervision"),
    ("5.1.6", "改进", "improvement"),
    ("5.1.7", "服务文化", "service culture"),
    ("5.2.1", "商品信息", "product information"),
    ("5.2.2", "技术支持", "technical support"),
    ("5.2.3", "配送", "delivery"),
    ("5.2.4", "维修", "repair"),
    ("5.2.5", "质量保证", "quality assurance"),
    ("5.2.6", "废弃商品回收", "take-back of discarded goods"),
    ("5.3.1", "顾客关系", "customer relations"),
    ("5.3.2", "投诉处理", "complaint handling"),
]
CLAUSE_CODES = [c for c, _zh, _en in CLAUSES]


class ClauseMapping(db.Model):
    __tablename__ = "clause_mapping"
    __table_args__ = (UniqueConstraint("clause", "document_id", "record_type_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    clause: Mapped[str] = mapped_column(String(10), index=True)
    document_id: Mapped[int | None] = mapped_column(ForeignKey("document.id"))
    record_type_id: Mapped[int | None] = mapped_column(ForeignKey("record_type.id"))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_dt: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    document: Mapped[Document | None] = relationship()
    record_type = relationship("RecordType")


class Certificate(db.Model):
    __tablename__ = "certificate"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(60), unique=True)
    body: Mapped[str] = mapped_column(String(200))  # the certification body
    issued_on: Mapped[date] = mapped_column(Date)
    expires_on: Mapped[date] = mapped_column(Date)
    created_dt: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    audits: Mapped[list["SurveillanceAudit"]] = relationship(
        back_populates="certificate", order_by="SurveillanceAudit.held_on"
    )
    extensions: Mapped[list["Extension"]] = relationship(
        back_populates="certificate", order_by="Extension.granted_on"
    )


class CertificationPlan(db.Model):
    """What is known before a certificate exists: the certification body the company has
    chosen (given at the company's set-up, or later). One row at most."""

    __tablename__ = "certification_plan"

    id: Mapped[int] = mapped_column(primary_key=True)
    body: Mapped[str] = mapped_column(String(200))
    updated_dt: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class SurveillanceAudit(db.Model):
    __tablename__ = "surveillance_audit"

    id: Mapped[int] = mapped_column(primary_key=True)
    certificate_id: Mapped[int] = mapped_column(ForeignKey("certificate.id"), index=True)
    held_on: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(20))  # certification / surveillance / recertification
    auditor_name: Mapped[str] = mapped_column(String(100), default="")
    notes: Mapped[str] = mapped_column(Text, default="")

    certificate: Mapped[Certificate] = relationship(back_populates="audits")


class Extension(db.Model):
    """The certification body allowed the next surveillance up to ``months`` (≤ 3) later."""

    __tablename__ = "certificate_extension"

    id: Mapped[int] = mapped_column(primary_key=True)
    certificate_id: Mapped[int] = mapped_column(ForeignKey("certificate.id"), index=True)
    granted_on: Mapped[date] = mapped_column(Date)
    months: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)

    certificate: Mapped[Certificate] = relationship(back_populates="extensions")


class EvidencePack(db.Model):
    __tablename__ = "evidence_pack"

    id: Mapped[int] = mapped_column(primary_key=True)
    period_from: Mapped[date] = mapped_column(Date)
    period_to: Mapped[date] = mapped_column(Date)
    sample_type_id: Mapped[int | None] = mapped_column(ForeignKey("record_type.id"))
    sample_size: Mapped[int] = mapped_column(Integer, default=0)
    sample_seed: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default="queued")  # running / done / failed
    files: Mapped[int] = mapped_column(Integer, default=0)
    sha256: Mapped[str] = mapped_column(String(64), default="")
    size: Mapped[int] = mapped_column(Integer, default=0)
    message: Mapped[str] = mapped_column(Text, default="")
    # The message as a msgid and its parameters, said in the reader's language (jobs/said.py).
    message_id: Mapped[str] = mapped_column(String(300), default="", server_default="")
    message_params: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_dt: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
