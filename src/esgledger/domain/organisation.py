"""The organisation tree and the share of each entity that an inventory consolidates."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from esgledger.domain.diagnostics import Diagnostic
from esgledger.domain.model import ConsolidationApproach, Entity


@dataclass(frozen=True, slots=True)
class Organisation:
    """An immutable tree of entities keyed by id."""

    entities: tuple[Entity, ...]

    @classmethod
    def of(cls, entities: Iterable[Entity]) -> Organisation:
        return cls(tuple(sorted(entities, key=lambda e: e.entity_id)))

    def __iter__(self) -> Iterator[Entity]:
        return iter(self.entities)

    def __len__(self) -> int:
        return len(self.entities)

    def __contains__(self, entity_id: object) -> bool:
        return any(e.entity_id == entity_id for e in self.entities)

    def get(self, entity_id: str) -> Entity:
        for entity in self.entities:
            if entity.entity_id == entity_id:
                return entity
        raise KeyError(entity_id)

    def ids(self) -> frozenset[str]:
        return frozenset(e.entity_id for e in self.entities)

    def roots(self) -> tuple[Entity, ...]:
        return tuple(e for e in self.entities if e.parent_id is None)

    def children(self, entity_id: str) -> tuple[Entity, ...]:
        return tuple(e for e in self.entities if e.parent_id == entity_id)

    def validate(self) -> list[Diagnostic]:
        """Unknown parents, cycles, several roots, shares outside 0..1."""
        problems: list[Diagnostic] = []
        ids = self.ids()
        if len(ids) != len(self.entities):
            problems.append(Diagnostic("org-duplicate", "duplicate entity ids in the tree"))
        for e in self.entities:
            if e.parent_id is not None and e.parent_id not in ids:
                problems.append(
                    Diagnostic(
                        "org-parent", f"entity {e.entity_id!r} names unknown parent {e.parent_id!r}"
                    )
                )
            if not 0.0 <= e.equity_share <= 1.0:
                problems.append(
                    Diagnostic(
                        "org-share",
                        f"entity {e.entity_id!r} equity share {e.equity_share} is outside 0..1",
                    )
                )
        if len(self.roots()) > 1:
            names = ", ".join(r.entity_id for r in self.roots())
            problems.append(Diagnostic("org-roots", f"the tree has several roots: {names}"))
        for e in self.entities:
            seen = {e.entity_id}
            parent = e.parent_id
            while parent is not None and parent in ids:
                if parent in seen:
                    problems.append(
                        Diagnostic("org-cycle", f"entity {e.entity_id!r} is in a cycle")
                    )
                    break
                seen.add(parent)
                parent = self.get(parent).parent_id
        return problems

    def consolidation_shares(self, approach: ConsolidationApproach) -> dict[str, float]:
        """Share of each entity's emissions in the root's inventory.

        Equity share multiplies the equity along the path from the root; a control approach
        takes 100 % of an entity whose every link up to the root is controlled, else 0 %.
        (GHG Protocol Corporate Standard chapter 3; documented in docs/methodology.md.)
        """
        shares: dict[str, float] = {}
        for e in self.entities:
            share = 1.0
            node: Entity | None = e
            while node is not None and node.parent_id is not None:
                if approach is ConsolidationApproach.EQUITY_SHARE:
                    share *= node.equity_share
                elif approach is ConsolidationApproach.OPERATIONAL_CONTROL:
                    share *= 1.0 if node.operational_control else 0.0
                else:
                    share *= 1.0 if node.financial_control else 0.0
                node = self.get(node.parent_id) if node.parent_id in self else None
            shares[e.entity_id] = share
        return shares
