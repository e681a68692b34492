"""Readable segment rules from a shallow decision tree, with thresholds in original units."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.tree import DecisionTreeClassifier

RULE_COLUMNS = [
    "rule_id",
    "segment_id",
    "rule_kind",
    "rule_text",
    "condition_count",
    "support",
    "precision",
    "holdout_support",
    "holdout_precision",
]


@dataclass(frozen=True)
class Bound:
    """The interval a rule allows for one feature: lower < x <= upper (raw tree thresholds)."""

    lower: float = -math.inf
    upper: float = math.inf

    def contains(self, value: float) -> bool:
        """True when the value satisfies the condition.

        Parameters
        ----------
        value : float
            A feature value (imputed, as the tree saw it).

        Returns
        -------
        bool
            lower < value <= upper.
        """
        return self.lower < value <= self.upper


@dataclass(frozen=True)
class FeatureData:
    """What describing a feature's conditions needs: its known values and imputed value."""

    name: str
    known: np.ndarray  # sorted distinct non-null training values
    is_integer: bool
    null_value: float | None  # value nulls were imputed with; None when training had none


def nice_number(low: float, high: float, include_low: bool = True) -> float:
    """The number with the fewest significant digits in [low, high) (or in (low, high]).

    Parameters
    ----------
    low, high : float
        The interval; low must be below high.
    include_low : bool, default=True
        True for [low, high), False for (low, high].

    Returns
    -------
    float
        The roundest number of the interval (low, or high, when none is rounder).

    Raises
    ------
    ValueError
        When the interval is empty.
    """
    if not low < high:
        raise ValueError(f"empty interval [{low}, {high})")
    magnitude = max(abs(low), abs(high))
    top = math.floor(math.log10(magnitude)) if magnitude > 0 else 0
    for exponent in range(top + 1, top - 16, -1):
        step = 10.0**exponent
        decimals = max(0, -exponent)
        if include_low:
            candidate = round(math.ceil(low / step) * step, decimals)
            if low <= candidate < high:
                return candidate
        else:
            candidate = round(math.floor(high / step) * step, decimals)
            if low < candidate <= high:
                return candidate
    return low if include_low else high


def format_number(value: float) -> str:
    """A threshold as short text: no trailing zeros, no exponent for everyday magnitudes.

    Parameters
    ----------
    value : float
        The threshold.

    Returns
    -------
    str
        Whole numbers without a decimal point, others with up to 10 significant digits.
    """
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.10g}"


def describe_bound(data: FeatureData, bound: Bound, has_nulls: bool = True) -> str:
    """One feature's condition as text, with round thresholds that split the data the same.

    Parameters
    ----------
    data : FeatureData
        The feature's known training values and the value its nulls were imputed with.
    bound : Bound
        The interval the rule allows (raw tree thresholds).
    has_nulls : bool, default=True
        False says no customer the rule covers lacks the feature: no "or is null".

    Returns
    -------
    str
        Such as `orders >= 6`, `100 < spend <= 250`, `(visits <= 20 or visits is null)`;
        "false" when no known value is inside.
    """
    name, known = data.name, data.known
    inside = known[(known > bound.lower) & (known <= bound.upper)]
    covers_null = has_nulls and data.null_value is not None and bound.contains(data.null_value)
    if inside.size == 0:
        return f"{name} is null" if covers_null else "false"
    one_value = inside.size == 1 and float(inside[0]).is_integer()
    two_sided = math.isfinite(bound.lower) and math.isfinite(bound.upper)
    at_minimum = not math.isfinite(bound.lower) and inside[0] == known[0]
    if one_value and ((two_sided and data.is_integer) or at_minimum):
        text = f"{name} = {format_number(inside[0])}"
    else:
        text = _interval_text(data, bound)
    return f"({text} or {name} is null)" if covers_null else text


def _interval_text(data: FeatureData, bound: Bound) -> str:
    """The interval as `x <= a`, `x > a`, `a < x <= b` (or >= and <= for whole numbers)."""
    name = data.name
    lo = hi = None
    if math.isfinite(bound.lower):
        below, above = _neighbours(data.known, bound.lower)
        lo = nice_number(below, above, include_low=not data.is_integer)
    if math.isfinite(bound.upper):
        below, above = _neighbours(data.known, bound.upper)
        hi = nice_number(below, above)
    lo_text = None if lo is None else format_number(lo)
    hi_text = None if hi is None else format_number(hi)
    if data.is_integer:
        if lo_text is not None and hi_text is not None:
            return f"{lo_text} <= {name} <= {hi_text}"
        return f"{name} >= {lo_text}" if lo_text is not None else f"{name} <= {hi_text}"
    if lo_text is not None and hi_text is not None:
        return f"{lo_text} < {name} <= {hi_text}"
    return f"{name} > {lo_text}" if lo_text is not None else f"{name} <= {hi_text}"


def feature_data(names: Sequence[str], raw: np.ndarray, medians: Sequence[float]) -> list:
    """Per feature: sorted known values, whole-number flag, imputed value if nulls occurred.

    Parameters
    ----------
    names : Sequence[str]
        The features, in column order of `raw`.
    raw : numpy.ndarray
        Training features before imputation (NaN for null).
    medians : Sequence[float]
        The value each feature's nulls are imputed with.

    Returns
    -------
    list[FeatureData]
        One per feature, in order.
    """
    out = []
    for j, name in enumerate(names):
        column = raw[:, j]
        known = np.unique(column[~np.isnan(column)])
        is_integer = bool(known.size) and bool(np.all(known == np.round(known)))
        null_value = float(medians[j]) if np.isnan(column).any() else None
        out.append(FeatureData(name, known, is_integer, null_value))
    return out


def impute(raw: np.ndarray, medians: Sequence[float]) -> np.ndarray:
    """Missing values replaced by the medians (one constant column when there is no feature).

    Parameters
    ----------
    raw : numpy.ndarray
        Features before imputation, shape (rows, features), NaN for null.
    medians : Sequence[float]
        One value per feature.

    Returns
    -------
    numpy.ndarray
        The imputed matrix; shape (rows, 1) of zeros when there is no feature.
    """
    if raw.shape[1] == 0:
        return np.zeros((raw.shape[0], 1))
    return np.where(np.isnan(raw), np.asarray(medians, dtype=np.float64), raw)


def tree_rules(
    tree: DecisionTreeClassifier,
    features: Sequence[str],
    medians: Sequence[float],
    raw_train: np.ndarray,
    segments_train: np.ndarray,
    raw_holdout: np.ndarray,
    segments_holdout: np.ndarray,
    segment_ids: Sequence[int],
    random_state: int,
) -> pd.DataFrame:
    """One rule per branch of the tree predicting a segment, and one for every segment left.

    The tree was fitted on the median-imputed `raw_train`. A segment no leaf predicts gets
    the best leaf of a one-vs-rest tree of the same depth (rule_kind one_vs_rest), and a
    segment with no customer in the training sample gets a row saying so (no_customers).

    Parameters
    ----------
    tree : sklearn.tree.DecisionTreeClassifier
        The rule tree, fitted on the imputed training features and segments.
    features : Sequence[str]
        The feature names, in column order.
    medians : Sequence[float]
        The value each feature's nulls were imputed with.
    raw_train, raw_holdout : numpy.ndarray
        Training and holdout features before imputation.
    segments_train, segments_holdout : numpy.ndarray
        The K-means segment of each training and holdout customer.
    segment_ids : Sequence[int]
        Every segment of the K-means model.
    random_state : int
        Seed of the one-vs-rest trees.

    Returns
    -------
    pandas.DataFrame
        One row per rule, columns RULE_COLUMNS, ordered by segment, support (largest first)
        and text; rule_id 1..n.
    """
    data = feature_data(features, raw_train, medians)
    x_train, x_holdout = impute(raw_train, medians), impute(raw_holdout, medians)
    main = _TreeView(tree, raw_train, x_train, segments_train, x_holdout, segments_holdout)
    rows = [main.row(node, leaves, data, "majority") for node, leaves in main.uniform_subtrees()]
    covered = {r["segment_id"] for r in rows}
    present = set(np.unique(segments_train).tolist())
    for segment in sorted(set(segment_ids) | present):
        if segment in covered:
            continue
        if segment not in present:
            rows.append(_empty_row(segment))
            continue
        binary = DecisionTreeClassifier(
            max_depth=tree.get_params()["max_depth"],
            min_samples_leaf=tree.get_params()["min_samples_leaf"],
            random_state=random_state,
        ).fit(x_train, segments_train == segment)
        view = _TreeView(
            binary,
            raw_train,
            x_train,
            segments_train == segment,
            x_holdout,
            segments_holdout == segment,
        )
        leaf = view.best_leaf_for(True)
        row = view.row(leaf, [leaf], data, "one_vs_rest", label=True)
        row["segment_id"] = segment
        rows.append(row)
    out = pd.DataFrame(rows)
    out = out.sort_values(
        ["segment_id", "support", "rule_text"], ascending=[True, False, True], kind="stable"
    ).reset_index(drop=True)
    out.insert(0, "rule_id", np.arange(1, len(out) + 1))
    return out[RULE_COLUMNS]


def _empty_row(segment: int) -> dict:
    return {
        "segment_id": segment,
        "rule_kind": "no_customers",
        "rule_text": None,
        "condition_count": 0,
        "support": 0,
        "precision": math.nan,
        "holdout_support": 0,
        "holdout_precision": math.nan,
    }


class _TreeView:
    """A fitted tree with the training and holdout customers counted per leaf and class."""

    def __init__(
        self,
        tree: DecisionTreeClassifier,
        raw_train: np.ndarray,
        x_train: np.ndarray,
        y_train: np.ndarray,
        x_holdout: np.ndarray,
        y_holdout: np.ndarray,
    ) -> None:
        self.tree = tree
        self.t = tree.tree_
        self.classes = tree.classes_
        self.raw_train = raw_train
        self.train_leaf = tree.apply(x_train) if len(x_train) else np.zeros(0, dtype=np.int64)
        self.train = self._counts(x_train, y_train)
        self.holdout = self._counts(x_holdout, y_holdout)
        self.paths = _paths(self.t)

    def _counts(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        counts = np.zeros((self.t.node_count, len(self.classes)), dtype=np.int64)
        if len(x) == 0:
            return counts
        leaves = self.tree.apply(x)
        known = np.isin(y, self.classes)
        np.add.at(counts, (leaves[known], np.searchsorted(self.classes, y[known])), 1)
        return counts

    def predicted(self, node: int) -> object:
        """The class the tree predicts at a node."""
        return self.classes[int(np.argmax(self.t.value[node][0]))]

    def uniform_subtrees(self) -> list[tuple[int, list[int]]]:
        """Maximal subtrees whose leaves all predict the same class, with their leaves."""
        out: list[tuple[int, list[int]]] = []

        def visit(node: int) -> tuple[bool, list[int]]:
            left, right = self.t.children_left[node], self.t.children_right[node]
            if left == -1:
                return True, [node]
            left_ok, left_leaves = visit(left)
            right_ok, right_leaves = visit(right)
            same = self.predicted(left_leaves[0]) == self.predicted(right_leaves[0])
            if left_ok and right_ok and same:
                return True, left_leaves + right_leaves
            if left_ok:
                out.append((left, left_leaves))
            if right_ok:
                out.append((right, right_leaves))
            return False, [left_leaves[0]]

        ok, leaves = visit(0)
        if ok:
            out.append((0, leaves))
        return sorted(out)

    def best_leaf_for(self, label: object) -> int:
        """The leaf with most customers of the class among leaves predicting it, else purest."""
        j = int(np.flatnonzero(self.classes == label)[0])
        leaves = [n for n in range(self.t.node_count) if self.t.children_left[n] == -1]
        sizes = self.train[leaves].sum(axis=1)
        hits = self.train[leaves, j]

        def key(i: int) -> tuple:
            wins = self.predicted(leaves[i]) == label
            return (not wins, -hits[i] if wins else -hits[i] / max(sizes[i], 1), leaves[i])

        return leaves[min(range(len(leaves)), key=key)]

    def row(
        self,
        node: int,
        leaves: Sequence[int],
        data: Sequence[FeatureData],
        kind: str,
        label: object = None,
    ) -> dict:
        """A rule row for a node: text, support and precision in training and holdout."""
        label = self.predicted(leaves[0]) if label is None else label
        j = int(np.flatnonzero(self.classes == label)[0])
        train = self.train[list(leaves)].sum(axis=0)
        hold = self.holdout[list(leaves)].sum(axis=0)
        conditions = self.paths[node]
        covered = np.isin(self.train_leaf, list(leaves))
        has_nulls = np.isnan(self.raw_train[covered]).any(axis=0)
        text = " and ".join(
            describe_bound(data[f], bound, bool(has_nulls[f])) for f, bound in conditions
        )
        return {
            "segment_id": int(label),  # type: ignore[call-overload]
            "rule_kind": kind,
            "rule_text": text or "all customers",
            "condition_count": len(conditions),
            "support": int(train.sum()),
            "precision": train[j] / train.sum() if train.sum() else math.nan,
            "holdout_support": int(hold.sum()),
            "holdout_precision": hold[j] / hold.sum() if hold.sum() else math.nan,
        }


def _paths(t) -> dict[int, list[tuple[int, Bound]]]:
    """For every node, the tightest bound per feature on the way from the root (root first)."""
    paths: dict[int, list[tuple[int, Bound]]] = {0: []}
    stack = [0]
    while stack:
        node = stack.pop()
        left, right = t.children_left[node], t.children_right[node]
        if left == -1:
            continue
        j, threshold = int(t.feature[node]), float(t.threshold[node])
        for child, is_left in ((left, True), (right, False)):
            bounds = dict(paths[node])
            old = bounds.get(j, Bound())
            if is_left:
                bounds[j] = Bound(old.lower, min(old.upper, threshold))
            else:
                bounds[j] = Bound(max(old.lower, threshold), old.upper)
            order = [f for f, _ in paths[node]] + ([] if j in dict(paths[node]) else [j])
            paths[child] = [(f, bounds[f]) for f in order]
            stack.append(child)
    return paths


def _neighbours(values: np.ndarray, threshold: float) -> tuple[float, float]:
    """The known values just at or below and just above a split threshold."""
    i = int(np.searchsorted(values, threshold, side="right"))
    below = float(values[i - 1]) if i > 0 else threshold
    above = float(values[i]) if i < len(values) else math.nextafter(threshold, math.inf)
    if not below < above:
        above = math.nextafter(below, math.inf)
    return below, above
