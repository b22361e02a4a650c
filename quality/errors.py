"""Errors of the quality package (all derive from outdial.errors.OutdialError)."""

from __future__ import annotations

from outdial.errors import Conflict, Forbidden, InvalidInput, NotFound


class CardInvalid(InvalidInput):
    """A scorecard definition a user got wrong; ``field`` names what to fix."""

    code = "card_invalid"


class AnswersInvalid(InvalidInput):
    """A filled scorecard with a missing or impossible answer; ``field`` names the item."""

    code = "answers_invalid"


class ThresholdInvalid(InvalidInput):
    """An alert threshold a user got wrong."""

    code = "threshold_invalid"


class QualityNotFound(NotFound):
    """No such card, call, evaluation or threshold."""

    code = "quality_not_found"


class NotYourEvaluation(Forbidden):
    """An agent acted on another agent's evaluation."""

    code = "not_your_evaluation"


class EvaluationClosed(Conflict):
    """The evaluation is not in a state that allows this (e.g. acknowledging twice)."""

    code = "evaluation_closed"


class GroupingInvalid(InvalidInput):
    """A QA report grouped by something other than agent, campaign or week."""

    code = "grouping_invalid"


class RuleInvalid(InvalidInput):
    """A sampling rule with impossible numbers."""

    code = "rule_invalid"
