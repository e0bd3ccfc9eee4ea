"""The hand-off of a refused or failed mediation: the package a party files with the court."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from .accounts import Actor
from .cases import CaseContext, CasePart
from .deadlines import complete_deadlines
from .errors import Forbidden, NotFound
from .models import CaseDocument, CaseResult, LitigationPackage, StoredFile


class Litigation(CasePart):
    """Closes a case that goes to court and keeps its litigation package."""

    async def hand_over(self, s: AsyncSession, ctx: CaseContext, actor: Actor, now: datetime) -> None:
        """Assemble the package a party files with the court, and close the case."""
        docs = (await s.execute(select(CaseDocument, StoredFile).join(StoredFile, StoredFile.id == CaseDocument.file_id)
                                .where(CaseDocument.case_id == ctx.case.id, CaseDocument.kind == "evidence"))).all()
        result = await s.get(CaseResult, ctx.case.id)
        content = {
            "case_id": ctx.case.id,
            "dispute_type": ctx.case.dispute_type,
            "claims": ctx.case.claims,
            "amount_fen": ctx.case.amount_fen,
            "facts": ctx.case.facts,
            "outcome": ctx.case.outcome,
            "failure_reasons": result.failure_reasons if result is not None else None,
            "parties": [self.cases.party_material(p) for p in ctx.parties.values()],
            "evidence": [{"name": f.name, "sha256": f.sha256, "size": f.size, "side": d.side} for d, f in docs],
            "audit_head": ctx.case.audit_head,
        }
        s.add(LitigationPackage(case_id=ctx.case.id, content=content, created_at=now))
        ctx.case.status = "closed"
        await complete_deadlines(s, ctx.case.id, "step:", now)
        self.cases.record(s, ctx, actor, "litigation.package", {"evidence": len(docs)}, now)

    async def package(self, actor: Actor, case_id: str) -> dict[str, Any]:
        async with self.db() as s:
            ctx = await self.cases.load_context(s, actor, case_id)
            package = await s.get(LitigationPackage, case_id)
        if package is None:
            raise NotFound("no_package", "this case has no litigation package (it was not refused or failed)")
        if not (ctx.relation.sides or ctx.relation.oversight or ctx.relation.court or ctx.relation.mediator):
            raise Forbidden("forbidden", "the litigation package is for the parties and the court")
        return package.content
