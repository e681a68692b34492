"""The stored forest: a canonical skops file as text, and loading it back only when sound."""

from __future__ import annotations

import base64
import io
import json
import logging
import re
import zipfile
import zlib
from typing import Any

import numpy as np
import pandas as pd
import skops.io as sio
from sklearn.ensemble import RandomForestClassifier
from sklearn.tree import DecisionTreeClassifier
from sklearn.tree._tree import Tree
from skops.io.exceptions import UntrustedTypesFoundException

from shopseg.forest.fit import ForestFit, fit_sample, with_models
from shopseg.forest.sample import ForestSample
from shopseg.params import library_versions
from shopseg.rules import impute

log = logging.getLogger(__name__)

# The stored forest is a skops file, not a pickle: skops builds only types it trusts and
# refuses a file naming any other, so whoever can write the warehouse cannot make a build
# run code. Beyond skops' defaults, a forest and rule tree (integer or text classes) name
# only this, found with skops.io.get_untrusted_types on genuine dumps and written down
# here: trusting whatever a file names would let that file choose. skops leaves Tree out
# because scikit-learn follows its node indices unchecked; _tree_is_sound checks them.
TRUSTED_TYPES = ["sklearn.tree._tree.Tree"]
_REBUILD = "rebuild it with dbt build --full-refresh --select segment_forest"


def scoring_fit(sample: ForestSample, stored: pd.DataFrame) -> ForestFit:
    """The forest segment_forest stored for the sample's run, refitted if it holds none.

    Raises when the stored latest run is another one (other data or settings): scores must
    come from the forest the classifier marts judge. The forest is only read back by the
    library versions that wrote it; otherwise (or for a run stored before forests were) it
    is refitted, which fixed seeds make the same forest.

    Parameters
    ----------
    sample : ForestSample
        This build's sample (see `forest_sample`): its run id and split.
    stored : pandas.DataFrame
        segment_forest's run and model rows: run_id, run_seq, record_type, name, text_value.

    Returns
    -------
    ForestFit
        The sample with the stored (or refitted) forest and rule tree.

    Raises
    ------
    RuntimeError
        When segment_forest's latest run is not the sample's.
    ValueError
        One line, when the stored text is not a sound skops forest of trusted types.
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
    if len(payload) != 1 or versions["text_value"].tolist() != [versions_text()]:
        log.info("shopseg: no stored forest of run %s for these versions: refitting", sample.run_id)
        return fit_sample(sample)
    width = impute(sample.raw_train[:0], sample.medians).shape[1]  # the matrix predicted on
    forest, tree = _load_forest(payload["text_value"].iloc[0], sample.run_id, width)
    return with_models(sample, forest, tree)


def forest_payload(fit: ForestFit) -> str:
    """The fitted forest and rule tree as text: a skops file, zlib-compressed, base64.

    Parameters
    ----------
    fit : ForestFit
        The fitted forest and rule tree.

    Returns
    -------
    str
        ASCII text, the same for the same fit in every build (see `canonical_skops`).
    """
    data = canonical_skops(sio.dumps((fit.forest, fit.tree)))
    return base64.b64encode(zlib.compress(data)).decode("ascii")


def versions_text() -> str:
    """The library versions as JSON text, stored with a run and compared when loading.

    Returns
    -------
    str
        JSON of `shopseg.params.library_versions`.
    """
    return json.dumps(library_versions())


_SKOPS_IDS = re.compile(r'"__id__": (\d+)|"(\d+)\.npy"')


def canonical_skops(data: bytes) -> bytes:
    """The same skops file with the same bytes in every build.

    skops names objects and their array files by `id()` (a memory address) and stamps each
    zip entry with the time of the dump; here ids are numbered in the order the schema
    meets them, times fixed.

    Parameters
    ----------
    data : bytes
        A skops file as `skops.io.dumps` writes it.

    Returns
    -------
    bytes
        The same objects as a zip with renumbered ids, fixed times and a fixed entry order.
    """
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
