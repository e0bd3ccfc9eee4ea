"""The seed's public 7-step process: the steps, the only allowed moves between them, and each
step's time limit and standard (what "done" means and who is responsible for getting it done)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum

from .errors import WrongState

#: The two sides of every case.
SIDES = ("applicant", "respondent")


class Step(StrEnum):
    START = "start"
    CHOOSE_MEDIATOR = "choose_mediator"
    COUNSELLING = "counselling"
    VIDEO_MEDIATION = "video_mediation"
    RESULT = "result"
    EVALUATION = "evaluation"
    COURT_DOCKING = "court_docking"

    @property
    def number(self) -> int:
        return list(Step).index(self) + 1


class Outcome(StrEnum):
    REFUSED = "refused"  # the respondent did not consent to mediation (Online Mediation Rules art. 4)
    SETTLED = "settled"  # an agreement was reached
    FAILED = "failed"  # mediation ended without agreement


#: The only moves a case can make. A respondent's refusal jumps from START straight to the
#: court-docking step, where the litigation hand-off is prepared.
TRANSITIONS: dict[Step, frozenset[Step]] = {
    Step.START: frozenset({Step.CHOOSE_MEDIATOR, Step.COURT_DOCKING}),
    Step.CHOOSE_MEDIATOR: frozenset({Step.COUNSELLING}),
    Step.COUNSELLING: frozenset({Step.VIDEO_MEDIATION}),
    Step.VIDEO_MEDIATION: frozenset({Step.RESULT}),
    Step.RESULT: frozenset({Step.EVALUATION}),
    Step.EVALUATION: frozenset({Step.COURT_DOCKING}),
    Step.COURT_DOCKING: frozenset(),
}


def check_transition(current: Step, target: Step) -> None:
    if target not in TRANSITIONS[current]:
        raise WrongState("wrong_step", f"a case at step '{current}' cannot move to '{target}'",
                         {"step": str(current), "target": str(target)})


def require_step(current: Step, *allowed: Step) -> None:
    """Refuse an action that belongs to another step, naming the step the case is at."""
    if current not in allowed:
        raise WrongState("wrong_step", f"this action belongs to step '{'/'.join(allowed)}', the case is at '{current}'",
                         {"step": str(current), "allowed": [str(s) for s in allowed]})


@dataclass(frozen=True)
class StepPolicy:
    limit: timedelta
    standard: str
    responsible: str  # "respondent" | "parties" | "mediator"


@dataclass(frozen=True)
class WorkflowPolicy:
    """Per-step time limits and standards; a deployment may override any of them."""

    steps: dict[Step, StepPolicy] = field(default_factory=lambda: dict(DEFAULT_STEPS))

    def for_step(self, step: Step) -> StepPolicy:
        return self.steps[step]


DEFAULT_STEPS: dict[Step, StepPolicy] = {
    Step.START: StepPolicy(timedelta(days=5), "the respondent consents to or refuses mediation online", "respondent"),
    Step.CHOOSE_MEDIATOR: StepPolicy(timedelta(days=3), "a mediator is chosen and accepts the case", "parties"),
    Step.COUNSELLING: StepPolicy(timedelta(days=7), "each side has been counselled; a video session is opened", "mediator"),
    Step.VIDEO_MEDIATION: StepPolicy(timedelta(days=15), "the video mediation session(s) are held and concluded", "mediator"),
    Step.RESULT: StepPolicy(timedelta(days=5), "an agreement takes effect or a failure record is made", "mediator"),
    Step.EVALUATION: StepPolicy(timedelta(days=3), "each party has rated the mediator", "parties"),
    Step.COURT_DOCKING: StepPolicy(timedelta(days=30), "judicial confirmation applied for, or the litigation package issued", "parties"),
}


#: The two kinds of court application of the court-docking step.
JUDICIAL_CONFIRMATION = "judicial_confirmation"
PAYMENT_ORDER = "payment_order"

# Statutory limits of the court-docking step: not configurable, they are the law.
#: CPL art. 205: apply jointly within 30 days of the agreement taking effect.
JC_APPLICATION_WINDOW = timedelta(days=30)
#: SPC provisions on judicial confirmation (2011): decide on acceptance within 3 days ...
COURT_ACCEPTANCE_LIMIT = timedelta(days=3)
#: ... rule within 15 days of acceptance, extendable once by 10 days.
COURT_RULING_LIMIT = timedelta(days=15)
COURT_RULING_EXTENSION = timedelta(days=10)
#: CPL art. 227: the court issues a payment order within 15 days of accepting the application.
PAYMENT_ORDER_LIMIT = timedelta(days=15)
#: CPL art. 226: the court decides within 5 days whether to accept a payment-order application.
PAYMENT_ORDER_ACCEPTANCE_LIMIT = timedelta(days=5)
