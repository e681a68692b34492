"""A random forest that learns the segments: holdout quality, importances, rules, scoring."""

from __future__ import annotations

import base64
import copy
import hashlib
import io
import json
import logging
import math
import re
import warnings
import zipfile
import zlib
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import skops.io as sio
from sklearn.ensemble import RandomForestClassifier
from sklearn.inspection import permutation_importance
from sklearn.metrics import (
    accuracy_score,
    confusion_matrix,
    f1_score,
    precision_recall_fscore_support,
)
from sklearn.model_selection import train_test_split
from sklearn.tree import DecisionTreeClassifier
from sklearn.tree._tree import Tree
from skops.io.exceptions import UntrustedTypesFoundException

from shopseg.config import ConfigError
from shopseg.kmeans import ID_COLUMN, sample_rows
from shopseg.params import library_versions
from shopseg.rules import RULE_COLUMNS, impute, tree_rules

log = logging.getLogger(__name__)

TARGETS = ("segment_id", "lifecycle_stage")
SEGMENT = "segment_id"
RESULT_COLUMNS = [
    "run_id",
    "record_type",
    "item_id",
    "class_label",
    "predicted_label",
    "feature",
    "name",
    "value",
    "text_value",
]
# scikit-learn warns when the holdout has one class: expected for a single-segment fallback
_SINGLE_LABEL = "A single label was found"
# The stored forest is a skops file, not a pickle: skops builds only types it trusts and
# refuses a file naming any other, so whoever can write the warehouse cannot make a build
# run code. Beyond skops' defaults, a forest and rule tree (integer or text classes) name
# only this, found with skops.io.get_untrusted_types on genuine dumps and written down
# here: trusting whatever a file names would let that file choose. skops leaves Tree out
# because scikit-learn follows its node indices unchecked; _tree_is_sound checks them.
TRUSTED_TYPES = ["sklearn.tree._tree.Tree"]
_REBUILD = "rebuild it with dbt build --full-refresh --select segment_forest"
SCORE_COLUMNS = [
    ID_COLUMN,
    "classifier_target",
    "actual_class",
    "predicted_class",
    "predicted_probability",
    "is_misclassified",
    "predicted_segment_id",
    "sample_split",
    "run_id",
]


@dataclass(frozen=True)
class ForestConfig:
    """Settings of the segment classifier and the rule tree."""

    target: str = SEGMENT
    sample_size: int = 100_000
    holdout_share: float = 0.25
    n_estimators: int = 100
    max_samples: int = 20_000
    min_samples_leaf: int = 5
    importance_sample_size: int = 5_000
    importance_repeats: int = 5
    rules_max_depth: int = 4
    rules_min_leaf_share: float = 0.01
    random_state: int = 42
    n_jobs: int = 2

    def __post_init__(self) -> None:
        if self.target not in TARGETS:
            raise ConfigError(
                f"shop_classifier_target must be one of {list(TARGETS)}, got {self.target!r}"
            )
        if not 0 < self.holdout_share < 1:
            raise ConfigError(
                f"shop_classifier_holdout_share must be in (0, 1), got {self.holdout_share}"
            )
        if not 0 <= self.rules_min_leaf_share < 0.5:
            raise ConfigError(
                f"shop_rules_min_leaf_share must be in [0, 0.5), got {self.rules_min_leaf_share}"
            )
        for name, var in _VARS.items():
            if name not in _NOT_COUNTS and getattr(self, name) < 1:
                raise ConfigError(f"{var} must be at least 1, got {getattr(self, name)}")

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> ForestConfig:
        """Build from a mapping of strings or values (as dbt config renders vars)."""
        kwargs: dict[str, Any] = {}
        for f in fields(cls):
            if f.name not in values:
                continue
            raw = values[f.name]
            var = _VARS.get(f.name, f.name)
            try:
                kwargs[f.name] = _coerce(f.name, raw)
            except (TypeError, ValueError) as exc:
                raise ConfigError(f"{var} = {raw!r} is not valid: {exc}") from exc
        return cls(**kwargs)

    def to_json(self) -> str:
        """The settings as canonical JSON (for run ids and the metrics table)."""
        return json.dumps(asdict(self), sort_keys=True)


_VARS = {
    "target": "shop_classifier_target",
    "sample_size": "shop_classifier_sample_size",
    "holdout_share": "shop_classifier_holdout_share",
    "n_estimators": "shop_classifier_n_estimators",
    "max_samples": "shop_classifier_max_samples",
    "min_samples_leaf": "shop_classifier_min_samples_leaf",
    "importance_sample_size": "shop_importance_sample_size",
    "importance_repeats": "shop_importance_repeats",
    "rules_max_depth": "shop_rules_max_depth",
    "rules_min_leaf_share": "shop_rules_min_leaf_share",
    "random_state": "shop_random_state",
    "n_jobs": "n_jobs",
}


_NOT_COUNTS = ("target", "holdout_share", "rules_min_leaf_share", "random_state")


def _coerce(name: str, raw: Any) -> Any:
    if isinstance(raw, str):
        text = raw.strip()
        if name == "target":
            return text
        raw = json.loads(text)
    if raw is None:
        raise ValueError("a value is required")
    if name in ("holdout_share", "rules_min_leaf_share"):
        return float(raw)
    if isinstance(raw, float) and not raw.is_integer():
        raise ValueError("expected a whole number")
    return int(raw)


@dataclass(frozen=True)
class ForestSample:
    """The customers a classifier run learns from and is judged on, and the run's id."""

    run_id: str
    config: ForestConfig
    kmeans_run_id: str
    features: tuple[str, ...]
    medians: tuple[float, ...]  # per feature: what nulls are imputed with
    raw_train: np.ndarray  # training features before imputation
    y_train: np.ndarray
    segments_train: np.ndarray
    raw_holdout: np.ndarray
    y_holdout: np.ndarray
    segments_holdout: np.ndarray
    split: pd.Series  # sample_split per customer_id of the sample: train / holdout
    customers: int
    is_stratified: bool


@dataclass(frozen=True)
class ForestFit(ForestSample):
    """A fitted forest and rule tree, with the sample they were fitted and judged on."""

    forest: RandomForestClassifier
    tree: DecisionTreeClassifier


def empty_results() -> pd.DataFrame:
    """A results frame with no rows and the stored column types."""
    return _typed(pd.DataFrame({c: [] for c in RESULT_COLUMNS}))


def frame_from_arrow(table: pa.Table) -> pd.DataFrame:
    """An Arrow table as pandas, decimal columns as float64 rounded as float(Decimal) rounds."""
    for i, column in enumerate(table.columns):
        if pa.types.is_decimal(column.type):
            # Decimal text parsed as a double is correctly rounded (Arrow's direct cast is
            # not), and far cheaper than the Python Decimal objects pandas would make.
            as_float = pc.cast(pc.cast(column, pa.string()), pa.float64())
            table = table.set_column(i, table.field(i).with_type(pa.float64()), as_float)
    return table.to_pandas()


def training_frame(
    features: pd.DataFrame, segments: pd.DataFrame, target: str = SEGMENT
) -> pd.DataFrame:
    """Customer features beside each customer's K-means segment, ordered by customer id."""
    _check_ids(features, "customer_features")
    _check_ids(segments, "segment assignments")
    if target not in features.columns and target != SEGMENT:
        raise ValueError(f"customer_features: target column {target} is missing")
    # ids are unique on both sides (checked above), so the join is one to one
    frame = features.drop(columns=[SEGMENT], errors="ignore").merge(
        segments[[ID_COLUMN, SEGMENT]], on=ID_COLUMN, how="inner"
    )
    return _by_id(frame)


def forest_sample(
    frame: pd.DataFrame, features: Sequence[str], config: ForestConfig, kmeans_run_id: str
) -> ForestSample:
    """The fixed-seed sample, its train/holdout split and imputation, and the run id."""
    _check_ids(frame, "training frame")
    features = tuple(features)
    missing = [f for f in (*features, config.target, SEGMENT) if f not in frame.columns]
    if missing:
        raise ValueError(f"training frame: columns {missing} are missing")
    ordered = _by_id(frame[frame[config.target].notna() & frame[SEGMENT].notna()])
    if ordered.empty:
        raise ValueError("no customer has a segment and a target value to learn")
    sample = ordered.iloc[sample_rows(len(ordered), config.sample_size, config.random_state)]
    raw = _matrix(sample, features)
    y = _labels(sample[config.target], config.target)
    segments = sample[SEGMENT].to_numpy(dtype=np.int64)
    train, holdout, stratified = _split(y, config.holdout_share, config.random_state)
    medians = tuple(_median(raw[train, j]) for j in range(len(features)))
    split = pd.Series("train", index=sample[ID_COLUMN].to_numpy(), name="sample_split")
    split.iloc[holdout] = "holdout"
    run_id = _run_id(config, kmeans_run_id, features, sample[ID_COLUMN], raw, y, segments)
    log.info(
        "shopseg: forest %s on %d of %d customers (%d train, %d holdout), %d features",
        run_id,
        len(sample),
        len(ordered),
        len(train),
        len(holdout),
        len(features),
    )
    return ForestSample(
        run_id=run_id,
        config=config,
        kmeans_run_id=kmeans_run_id,
        features=features,
        medians=medians,
        raw_train=raw[train],
        y_train=y[train],
        segments_train=segments[train],
        raw_holdout=raw[holdout],
        y_holdout=y[holdout],
        segments_holdout=segments[holdout],
        split=split,
        customers=len(ordered),
        is_stratified=stratified,
    )


def fit_sample(sample: ForestSample) -> ForestFit:
    """Fit the forest (target from config) and the rule tree (K-means segments) on a sample."""
    config = sample.config
    x_train = impute(sample.raw_train, sample.medians)
    n_train = len(sample.y_train)
    leaf = _leaf_size(config.min_samples_leaf, n_train, len(np.unique(sample.segments_train)))
    forest = RandomForestClassifier(
        n_estimators=config.n_estimators,
        min_samples_leaf=leaf,
        max_samples=min(config.max_samples, n_train),
        oob_score=n_train > 1,
        n_jobs=config.n_jobs,
        random_state=config.random_state,
    ).fit(x_train, sample.y_train)
    tree = DecisionTreeClassifier(
        max_depth=config.rules_max_depth,
        min_samples_leaf=max(leaf, math.ceil(config.rules_min_leaf_share * n_train)),
        random_state=config.random_state,
    ).fit(x_train, sample.segments_train)
    return ForestFit(**_sample_fields(sample), forest=forest, tree=tree)


def fit_forest(
    frame: pd.DataFrame, features: Sequence[str], config: ForestConfig, kmeans_run_id: str
) -> ForestFit:
    """Fit the forest (target from config) and the rule tree (K-means segments) on a sample."""
    return fit_sample(forest_sample(frame, features, config, kmeans_run_id))


def scoring_fit(sample: ForestSample, stored: pd.DataFrame) -> ForestFit:
    """The forest segment_forest stored for the sample's run, refitted if it holds none.

    `stored` holds segment_forest's run and model rows. Raises when its latest run is another
    one (other data or settings): scores must come from the forest the classifier marts judge.
    The forest is only read back by the library versions that wrote it; otherwise (or for a run
    stored before forests were) it is refitted, which fixed seeds make the same forest. Raises
    ValueError (one line) when the stored text is not a sound skops forest of trusted types.
    """
    runs = stored[stored["record_type"] == "run"]
    latest = runs.sort_values("run_seq", kind="stable")["run_id"].tail(1).tolist()
    if latest != [sample.run_id]:
        raise RuntimeError(
            f"segment_forest holds run {latest[0] if latest else None}, this build fits "
            f"{sample.run_id}: build segment_forest with the same vars first"
        )
    rows = stored[stored["run_id"] == sample.run_id]
    versions = rows.loc[(rows["record_type"] == "run") & (rows["name"] == "versions")]
    payload = rows.loc[(rows["record_type"] == "model") & (rows["name"] == "forest")]
    if len(payload) != 1 or versions["text_value"].tolist() != [_versions_text()]:
        log.info("shopseg: no stored forest of run %s for these versions: refitting", sample.run_id)
        return fit_sample(sample)
    width = impute(sample.raw_train[:0], sample.medians).shape[1]  # the matrix predicted on
    forest, tree = _load_forest(payload["text_value"].iloc[0], sample.run_id, width)
    return ForestFit(**_sample_fields(sample), forest=forest, tree=tree)


def _sample_fields(sample: ForestSample) -> dict[str, Any]:
    """The sample's fields by name, arrays shared, not copied."""
    return {f.name: getattr(sample, f.name) for f in fields(ForestSample)}


def _forest_payload(fit: ForestFit) -> str:
    """The fitted forest and rule tree as text: a skops file, zlib-compressed, base64."""
    data = _canonical_skops(sio.dumps((fit.forest, fit.tree)))
    return base64.b64encode(zlib.compress(data)).decode("ascii")


_SKOPS_IDS = re.compile(r'"__id__": (\d+)|"(\d+)\.npy"')


def _canonical_skops(data: bytes) -> bytes:
    """The same skops file with the same bytes in every build: skops names objects and
    their array files by `id()` (a memory address) and stamps each zip entry with the time
    of the dump; here ids are numbered in the order the schema meets them, times fixed."""
    with zipfile.ZipFile(io.BytesIO(data)) as source:
        schema = source.read("schema.json").decode("utf-8")
        numbers: dict[str, str] = {}
        for match in _SKOPS_IDS.finditer(schema):
            numbers.setdefault(match.group(1) or match.group(2), str(len(numbers) + 1))

        def renumber(match: re.Match) -> str:
            if match.group(1) is not None:
                return f'"__id__": {numbers[match.group(1)]}'
            return f'"{numbers[match.group(2)]}.npy"'

        files = {
            f"{numbers[info.filename[:-4]]}.npy": source.read(info.filename)
            for info in source.infolist()
            if info.filename != "schema.json"
        }
        files["schema.json"] = _SKOPS_IDS.sub(renumber, schema).encode("utf-8")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as target:
        for name in sorted(files, key=lambda n: (n == "schema.json", len(n), n)):
            target.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), files[name])
    return out.getvalue()


def _load_forest(
    text: str, run_id: str, n_features: int
) -> tuple[RandomForestClassifier, DecisionTreeClassifier]:
    """The forest and rule tree a payload holds; anything else is refused in one line."""

    def refused(problem: str) -> ValueError:
        return ValueError(
            f"shopseg: segment_forest: the stored forest of run {run_id} {problem}; {_REBUILD}"
        )

    try:
        data = zlib.decompress(base64.b64decode(text, validate=True))
    except (ValueError, TypeError, zlib.error):  # binascii.Error is a ValueError
        raise refused("is not zlib-compressed base64 text") from None
    if not data.startswith(b"PK\x03\x04"):  # a skops file is a zip archive
        if data[:1] == b"\x80":  # the pickle protocol opcode
            raise refused("is a pickle, as older shopseg versions stored it, and is not loaded")
        raise refused("is not a skops file")
    try:
        loaded = sio.loads(data, trusted=TRUSTED_TYPES)
    except UntrustedTypesFoundException:
        untrusted = sorted(set(sio.get_untrusted_types(data=data)) - set(TRUSTED_TYPES))
        raise refused(f"holds types shopseg does not trust ({', '.join(untrusted)})") from None
    except Exception as exc:  # a malformed file fails in many ways inside skops
        raise refused(f"is not a valid skops file ({type(exc).__name__})") from None
    if not (
        isinstance(loaded, tuple)
        and len(loaded) == 2
        and type(loaded[0]) is RandomForestClassifier
        and type(loaded[1]) is DecisionTreeClassifier
    ):
        raise refused("is not a random forest and a rule tree")
    forest, tree = loaded
    estimators = getattr(forest, "estimators_", None)
    if (
        getattr(forest, "n_features_in_", None) != n_features
        or not isinstance(estimators, list)
        or not estimators
        or not all(_tree_is_sound(e, n_features) for e in [*estimators, tree])
    ):
        raise refused(f"holds a tree that is not a sound fitted tree on {n_features} features")
    return forest, tree


def _tree_is_sound(estimator: Any, n_features: int) -> bool:
    """True for a fitted tree whose nodes lead only to later nodes and to existing features."""
    nodes = getattr(estimator, "tree_", None)
    if (
        type(estimator) is not DecisionTreeClassifier
        or not isinstance(nodes, Tree)
        or getattr(estimator, "n_features_in_", None) != n_features
        or nodes.n_features != n_features
        # the node arrays below are views of node_count nodes: read none beyond capacity
        or not 0 < nodes.node_count <= nodes.capacity
    ):
        return False
    count = nodes.node_count
    left, right, feature = nodes.children_left, nodes.children_right, nodes.feature
    inner = left != -1  # scikit-learn marks a leaf by left_child == -1
    ids = np.flatnonzero(inner)
    return bool(
        np.array_equal(inner, right != -1)
        # children after their parent (as scikit-learn builds trees): every walk ends
        and np.all((left[inner] > ids) & (left[inner] < count))
        and np.all((right[inner] > ids) & (right[inner] < count))
        and np.all((feature[inner] >= 0) & (feature[inner] < n_features))
    )


def _versions_text() -> str:
    return json.dumps(library_versions())


def forest_results(fit: ForestFit, segment_ids: Sequence[int]) -> pd.DataFrame:
    """Holdout metrics, confusion, importances and rules of a fit as one long frame."""
    rows: list[tuple] = []

    def add(kind: str, name: str, value: Any = None, text: Any = None, **keys: Any) -> None:
        rows.append(
            (
                kind,
                keys.get("item_id"),
                keys.get("class_label"),
                keys.get("predicted_label"),
                keys.get("feature"),
                name,
                None if value is None else float(value),
                text,
            )
        )

    x_train, x_holdout = impute(fit.raw_train, fit.medians), impute(fit.raw_holdout, fit.medians)
    has_holdout = len(fit.y_holdout) > 0
    predicted = fit.forest.predict(x_holdout) if has_holdout else fit.y_holdout
    labels = _class_order(np.concatenate([fit.y_train, fit.y_holdout]))
    tree_predicted = fit.tree.predict(x_holdout) if has_holdout else fit.segments_holdout
    rules = tree_rules(
        fit.tree,
        fit.features,
        fit.medians,
        fit.raw_train,
        fit.segments_train,
        fit.raw_holdout,
        fit.segments_holdout,
        segment_ids,
        fit.config.random_state,
    )
    nan = math.nan
    metrics = {
        "accuracy": accuracy_score(fit.y_holdout, predicted) if has_holdout else nan,
        "macro_f1": _f1(fit.y_holdout, predicted, "macro"),
        "weighted_f1": _f1(fit.y_holdout, predicted, "weighted"),
        "oob_score": getattr(fit.forest, "oob_score_", nan),
        "rule_fidelity": (
            accuracy_score(fit.segments_holdout, tree_predicted) if has_holdout else nan
        ),
        "rule_train_fidelity": accuracy_score(fit.segments_train, fit.tree.predict(x_train)),
        "rule_count": float(len(rules)),
        "rule_leaves": float(fit.tree.get_n_leaves()),
        "customers": float(fit.customers),
        "sample_customers": float(len(fit.y_train) + len(fit.y_holdout)),
        "train_customers": float(len(fit.y_train)),
        "holdout_customers": float(len(fit.y_holdout)),
        "classes": float(len(labels)),
        "is_stratified": float(fit.is_stratified),
    }
    importance = _permutation_importance(fit, x_holdout)
    metrics["importance_customers"] = float(importance.attrs["customers"])
    for name, value in metrics.items():
        add("run", name, value)
    texts = {
        "target": fit.config.target,
        "kmeans_run_id": fit.kmeans_run_id,
        "features": json.dumps(list(fit.features)),
        "config": fit.config.to_json(),
        "versions": _versions_text(),
    }
    for name, text in texts.items():
        add("run", name, text=text)
    if has_holdout:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=_SINGLE_LABEL)
            precision, recall, f1, support = precision_recall_fscore_support(
                fit.y_holdout, predicted, labels=labels, zero_division=0
            )
            matrix = confusion_matrix(fit.y_holdout, predicted, labels=labels)
    else:
        precision = recall = f1 = np.full(len(labels), nan)
        support = np.zeros(len(labels))
        matrix = np.zeros((len(labels), len(labels)))
    train_support = pd.Series(fit.y_train).value_counts()
    for i, label in enumerate(labels):
        text = str(label)
        add("class_metric", "precision", precision[i], class_label=text)
        add("class_metric", "recall", recall[i], class_label=text)
        add("class_metric", "f1", f1[i], class_label=text)
        add("class_metric", "holdout_support", support[i], class_label=text)
        add("class_metric", "train_support", train_support.get(label, 0), class_label=text)
        for k, other in enumerate(labels):
            add(
                "confusion", "customers", matrix[i, k], class_label=text, predicted_label=str(other)
            )
    impurity = fit.forest.feature_importances_
    for j, feature in enumerate(fit.features):
        add("importance", "impurity", impurity[j], feature=feature)
        add("importance", "permutation_mean", importance["mean"].iloc[j], feature=feature)
        add("importance", "permutation_std", importance["std"].iloc[j], feature=feature)
        add("importance", "impute_median", fit.medians[j], feature=feature)
    for rule in rules.to_dict("records"):
        keys = {"item_id": int(rule["rule_id"]), "class_label": str(rule["segment_id"])}
        for name in RULE_COLUMNS[4:]:
            add("rule", name, rule[name], **keys)
        add("rule", "rule_kind", text=rule["rule_kind"], **keys)
        add("rule", "rule_text", text=rule["rule_text"], **keys)
    # the fitted forest itself, so that segment_forest_scores predicts with it instead of
    # refitting (read back by scoring_fit)
    add("model", "forest", text=_forest_payload(fit))
    frame = pd.DataFrame(rows, columns=RESULT_COLUMNS[1:])
    frame.insert(0, "run_id", fit.run_id)
    log.info(
        "shopseg: forest %s holdout macro-F1 %.3f, OOB %.3f, rule fidelity %.3f (%d rules)",
        fit.run_id,
        metrics["macro_f1"],
        metrics["oob_score"],
        metrics["rule_fidelity"],
        len(rules),
    )
    return _typed(frame)


def score_customers(fit: ForestFit, frame: pd.DataFrame, chunk_size: int = 100_000) -> pd.DataFrame:
    """Predict every customer of a feature frame in chunks: class, probability, disagreement."""
    _check_ids(frame, "scoring frame")
    ordered = _by_id(frame)
    n = len(ordered)
    best, probability = _predict(fit, ordered, chunk_size)
    # labels as text once per class, then taken per customer (no per-row Python strings)
    class_text = [str(label) for label in fit.forest.classes_]
    codes, uniques = pd.factorize(ordered[fit.config.target])  # -1: no actual class
    known = codes >= 0
    actual_text = [str(label) for label in _labels(pd.Series(uniques), fit.config.target)]
    position = {text: i for i, text in enumerate(class_text)}
    # the class position of each actual label (-1: no class of the forest); the last entry
    # is what code -1 (no actual class) picks, and those rows are null anyway
    actual_position = np.array([position.get(text, -1) for text in actual_text] + [-1])
    mismatch = pd.arrays.BooleanArray(actual_position[codes] != best, ~known)
    out = pd.DataFrame(
        {
            ID_COLUMN: ordered[ID_COLUMN].to_numpy(),
            "classifier_target": fit.config.target,
            "actual_class": _text(actual_text, pa.array(codes, mask=~known)),
            "predicted_class": _text(class_text, best),
            "predicted_probability": probability,
            "is_misclassified": mismatch,
        }
    )
    if fit.config.target == SEGMENT:
        predicted = fit.forest.classes_[best].astype(np.int64)
        out["predicted_segment_id"] = pd.array(predicted, dtype="Int64")
    else:
        null = np.ones(n, dtype=bool)
        out["predicted_segment_id"] = pd.arrays.IntegerArray(np.zeros(n, np.int64), null)
    ids = pa.array(ordered[ID_COLUMN])
    split = np.full(n, 2)  # not_sampled
    for code, kind in enumerate(("train", "holdout")):
        chosen = pa.array(fit.split.index[fit.split.to_numpy() == kind], type=ids.type)
        split[pc.is_in(ids, value_set=chosen).to_numpy(zero_copy_only=False)] = code
    out["sample_split"] = _text(["train", "holdout", "not_sampled"], split)
    out["run_id"] = fit.run_id
    return out[SCORE_COLUMNS]


def _predict(fit: ForestFit, ordered: pd.DataFrame, chunk_size: int) -> tuple[np.ndarray, ...]:
    """Per row, the position of the most probable class and its probability (chunks on threads)."""
    # each chunk sums its trees in order on one thread: the same bits on every run (the forest's
    # own n_jobs would add the trees up in whatever order its threads finish)
    forest = copy.copy(fit.forest)
    forest.n_jobs = 1

    def predict(start: int) -> tuple[np.ndarray, np.ndarray]:
        part = impute(_matrix(ordered.iloc[start : start + chunk_size], fit.features), fit.medians)
        # trees compare float32 features: convert here rather than in each predict_proba call
        proba = forest.predict_proba(part.astype(np.float32))
        # rounded to 9 digits like every build before, whose published tables stay identical
        proba = np.round(proba, 9)
        top = np.argmax(proba, axis=1)
        return top, proba[np.arange(len(part)), top]

    starts = range(0, len(ordered), chunk_size)
    with ThreadPoolExecutor(max_workers=max(1, fit.config.n_jobs)) as pool:
        parts = list(pool.map(predict, starts))
    if not parts:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float64)
    best = np.concatenate([top for top, _ in parts]).astype(np.int64)
    return best, np.concatenate([probability for _, probability in parts])


def _text(labels: Sequence[str], positions: np.ndarray | pa.Array) -> pd.arrays.ArrowStringArray:
    """A string array of labels[position] per row (null where the position is null)."""
    return pd.array(pa.array(labels, type=pa.string()).take(positions), dtype="string")


def _permutation_importance(fit: ForestFit, x_holdout: np.ndarray) -> pd.DataFrame:
    """Drop in holdout accuracy per shuffled feature (mean, sd) on a bounded holdout sample."""
    n = len(fit.y_holdout)
    out = pd.DataFrame({"mean": np.full(len(fit.features), np.nan)}, index=list(fit.features))
    out["std"] = np.nan
    out.attrs["customers"] = 0
    if n == 0:
        return out
    rows = sample_rows(n, fit.config.importance_sample_size, fit.config.random_state + 2)
    result = permutation_importance(
        fit.forest,
        x_holdout[rows],
        fit.y_holdout[rows],
        scoring="accuracy",
        n_repeats=fit.config.importance_repeats,
        random_state=fit.config.random_state,
        n_jobs=1,
    )
    out["mean"] = result.importances_mean
    out["std"] = result.importances_std
    out.attrs["customers"] = len(rows)
    return out


def _leaf_size(configured: int, train_customers: int, classes: int) -> int:
    """The configured smallest leaf, smaller on samples too small for it (tiny shops)."""
    return max(1, min(configured, train_customers // (10 * max(classes, 1))))


def _f1(actual: np.ndarray, predicted: np.ndarray, average: str) -> float:
    """F1 over the classes in either array; nan without customers."""
    if len(actual) == 0:
        return math.nan
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=_SINGLE_LABEL)
        return float(f1_score(actual, predicted, average=average, zero_division=0))


def _split(y: np.ndarray, share: float, random_state: int) -> tuple[np.ndarray, np.ndarray, bool]:
    """Sorted train and holdout positions: stratified by class when every class allows it."""
    n = len(y)
    positions = np.arange(n)
    if n < 2:
        return positions, positions[:0], False
    _, counts = np.unique(y, return_counts=True)
    n_holdout = math.ceil(n * share)
    stratify = counts.min() >= 2 and len(counts) <= min(n_holdout, n - n_holdout)
    if not stratify:
        log.info("shopseg: a class is too small for a stratified holdout: plain random split")
    train, holdout = train_test_split(
        positions,
        test_size=share,
        random_state=random_state,
        stratify=y if stratify else None,
    )
    return np.sort(train), np.sort(holdout), bool(stratify)


def _labels(values: pd.Series, target: str) -> np.ndarray:
    """Target values as a plain array: integers for segment ids, text otherwise."""
    if target == SEGMENT:
        return values.to_numpy(dtype=np.int64)
    return values.astype(str).to_numpy(dtype=object)


def _class_order(labels: np.ndarray) -> list:
    """Distinct labels in their natural order (numbers numerically)."""
    return sorted(set(labels.tolist()))


def _matrix(frame: pd.DataFrame, columns: Sequence[str]) -> np.ndarray:
    """Columns as float64; nulls, infinities and non-numbers become NaN."""
    out = np.empty((len(frame), len(columns)), dtype=np.float64)
    for j, name in enumerate(columns):
        col = pd.to_numeric(frame[name], errors="coerce")
        arr = col.to_numpy(dtype=np.float64, na_value=np.nan)
        out[:, j] = np.where(np.isfinite(arr), arr, np.nan)
    return out


def _median(column: np.ndarray) -> float:
    """Median of the known values; 0 when none is known."""
    known = column[~np.isnan(column)]
    return float(np.median(known)) if known.size else 0.0


def _check_ids(frame: pd.DataFrame, what: str) -> None:
    if ID_COLUMN not in frame.columns:
        raise ValueError(f"{what}: column {ID_COLUMN} is missing")
    ids = frame[ID_COLUMN]
    if ids.isna().any() or not ids.is_unique:
        raise ValueError(f"{what}: {ID_COLUMN} has nulls or duplicates")


def _by_id(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame ordered by customer id, with a fresh index; not sorted again when it already is."""
    if not frame[ID_COLUMN].is_monotonic_increasing:
        frame = frame.sort_values(ID_COLUMN, kind="stable")
    return frame.reset_index(drop=True)


def _run_id(
    config: ForestConfig,
    kmeans_run_id: str,
    features: tuple[str, ...],
    ids: pd.Series,
    raw: np.ndarray,
    y: np.ndarray,
    segments: np.ndarray,
) -> str:
    digest = hashlib.sha256()
    digest.update(config.to_json().encode())
    digest.update(kmeans_run_id.encode())
    digest.update(repr(features).encode())
    digest.update("\x1f".join(ids.astype(str)).encode())
    digest.update(np.ascontiguousarray(raw, dtype=np.float64).tobytes())
    digest.update("\x1f".join(map(str, y.tolist())).encode())
    digest.update(np.ascontiguousarray(segments, dtype=np.int64).tobytes())
    return digest.hexdigest()[:16]


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.astype(
        {
            "run_id": "string",
            "record_type": "string",
            "item_id": "Int64",
            "class_label": "string",
            "predicted_label": "string",
            "feature": "string",
            "name": "string",
            "value": "float64",
            "text_value": "string",
        }
    )
