"""Compare two detectors' AUCs on the same test videos, from their stored result records.

``compare(a, b)`` pairs the records' videos by key, refuses records whose test videos differ, and
tests B's AUC against A's twice: with the paired pair-clustered bootstrap (the headline
``delta_ci95`` and ``p_value``, which respect that videos of one FF++ pair are not independent)
and with DeLong's test (``delong``, which treats the videos as independent; shown for
reference, as most papers report it). ``delta`` is always B minus A: positive when B is better.
"""

from __future__ import annotations

import numpy as np

from dfbench.errors import DfbenchError
from dfbench.splits import identities
from dfbench.uncertainty import delong, paired_bootstrap_delta


def pairs_from_keys(keys) -> list[str]:
    """Each video's cluster, derived from its key "<method>/<name>" when the record stores no pairs.

    A name is an id ("007", a real video) or "<target>_<source>" (a fake), so a video shows one or
    two identities (``dfbench.splits.identities``). Videos that share an identity, directly or
    through other videos, form one cluster: the connected components of the graph whose nodes
    are identities and whose edges are the fakes. On FF++ every id belongs to exactly one pair,
    so this gives the pairs: a fake "a_b" and "b_a" and the reals "a" and "b" share the cluster
    "a_b" (ids sorted, joined by "_"). A real id with no fake among the videos is its own cluster.
    """
    parent: dict[str, str] = {}

    def root(i: str) -> str:
        while parent.setdefault(i, i) != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    names = [str(k).split("/", 1)[-1] for k in keys]
    for name in names:
        ids = sorted(identities(name))
        root(ids[0])  # registers a real id that no fake mentions
        for other in ids[1:]:
            parent[root(other)] = root(ids[0])
    members: dict[str, list[str]] = {}
    for i in list(parent):
        members.setdefault(root(i), []).append(i)
    label = {r: "_".join(sorted(ids)) for r, ids in members.items()}
    return [label[root(sorted(identities(name))[0])] for name in names]


def _as_dict(record) -> dict:
    return record.to_dict() if hasattr(record, "to_dict") else record


def _name(record: dict, fallback: str) -> str:
    """A short label for a record: detector, run, size and seed, when it has them."""
    if "detector" not in record:
        return fallback
    bits = [record.get("run"), record.get("size"), f"seed {record['seed']}" if "seed" in record else None]
    return f"{record['detector']} ({', '.join(str(b) for b in bits if b is not None)})"


def _same_videos(va: dict, vb: dict) -> None:
    """Raise, in one line, when two records' test videos are not the same videos with the same labels."""
    only_a, only_b = sorted(va.keys() - vb.keys()), sorted(vb.keys() - va.keys())
    mislabelled = sorted(k for k in va.keys() & vb.keys() if int(va[k]["label"]) != int(vb[k]["label"]))
    if not (only_a or only_b or mislabelled):
        return
    example = (only_a or only_b or mislabelled)[0]
    raise DfbenchError(
        f"the records were not scored on the same test videos: {len(only_a)} only in A, {len(only_b)} only in B, "
        f"{len(mislabelled)} with different labels (first: {example}); compare records of the same protocol run "
        "and data")


def _clusters(keys: list[str], va: dict, vb: dict) -> tuple[list[str], str]:
    """The videos' pairs: the records' own "pair" fields when one of them stores them for every video
    (they must agree where both do), else derived from the keys (``pairs_from_keys``)."""
    stored = [[v[k].get("pair") or None for k in keys] for v in (va, vb)]
    full = [p for p in stored if all(p)]
    if len(full) == 2 and _grouping(full[0]) != _grouping(full[1]):
        k = next(k for k, x, y in zip(keys, _grouping(full[0]), _grouping(full[1])) if x != y)
        raise DfbenchError(f"the records group video {k} with different videos (pair {va[k]['pair']} in A, "
                           f"{vb[k]['pair']} in B); they were made from different split files")
    if full:
        return full[0], "records"
    return pairs_from_keys(keys), "keys"


def _grouping(pairs: list[str]) -> list[int]:
    """Each video's cluster as the position of the first video in it: equal for two labellings
    that group the videos alike, whatever the cluster names."""
    first: dict[str, int] = {}
    return [first.setdefault(p, i) for i, p in enumerate(pairs)]


def compare(a, b, n_resamples: int = 2000, seed: int = 0, method: str | None = None) -> dict:
    """B's AUC against A's on the same test videos; ``a`` and ``b`` are record dicts (as stored in
    results/*.json; a ``RunResult`` works too). ``method`` compares on the real videos and that
    method's fakes only, as a record's ``per_method`` AUC is computed (``method`` is then returned
    as ``manipulation``).

    Returns ``{"a", "b", "n_videos", "n_real", "n_fake", "auc_a", "auc_b", "delta" (auc_b - auc_a),
    "delta_ci95", "p_value", "method", "resamples", "seed", "unit", "clusters", "dropped",
    "pairs_from" ("records" or "keys"), "delong": {"z", "p_value", "delta_var"}}``. ``delta_ci95``
    and ``p_value`` come from ``dfbench.uncertainty.paired_bootstrap_delta`` (see there how the
    p-value is read off the resamples). Raises ``DfbenchError`` when the test videos differ.
    """
    a, b = _as_dict(a), _as_dict(b)
    va, vb = ({v["key"]: v for v in r["videos"]} for r in (a, b))
    _same_videos(va, vb)
    keys = sorted(va) if method is None else _of_method(va, method)
    labels = np.array([int(va[k]["label"]) for k in keys])
    if min((labels == 0).sum(), (labels == 1).sum()) < 2:
        raise DfbenchError(f"the records' test videos hold {(labels == 0).sum()} real and {(labels == 1).sum()} "
                           "fake videos; comparing AUCs needs at least 2 of each")
    pairs, source = _clusters(keys, va, vb)
    scores_a = np.array([float(va[k]["score"]) for k in keys])
    scores_b = np.array([float(vb[k]["score"]) for k in keys])
    boot = paired_bootstrap_delta(labels, scores_a, scores_b, pairs, n_resamples=n_resamples, seed=seed)
    dl = delong(labels, scores_a, scores_b)
    return {
        "a": _name(a, "A"), "b": _name(b, "B"),
        "n_videos": len(keys), "n_real": int((labels == 0).sum()), "n_fake": int((labels == 1).sum()),
        "auc_a": boot["auc_a"], "auc_b": boot["auc_b"], "delta": boot["delta"],
        "delta_ci95": boot["delta_ci95"], "p_value": boot["p_value"],
        "method": boot["method"], "resamples": boot["resamples"], "seed": boot["seed"], "unit": boot["unit"],
        "clusters": boot["clusters"], "dropped": boot["dropped"], "pairs_from": source,
        "delong": {"z": dl["z"], "p_value": dl["p_value"], "delta_var": dl["delta_var"]},
        "manipulation": method,
    }


def _of_method(videos: dict, method: str) -> list[str]:
    """The keys of the real videos and of ``method``'s fakes; a one-line error naming the methods
    there are when ``method`` has no fake among them."""
    fakes = sorted({str(v.get("method") or k.split("/", 1)[0]) for k, v in videos.items() if int(v["label"]) == 1})
    if method not in fakes:
        raise DfbenchError(f"--method {method}: the records' test videos hold no fakes of it; use one of "
                           f"{', '.join(fakes) or '(none)'}")
    return sorted(k for k, v in videos.items()
                  if int(v["label"]) == 0 or str(v.get("method") or k.split("/", 1)[0]) == method)


def _p(p) -> str:
    return "–" if p is None else f"{p:.3g}"


def format_comparison(result: dict) -> str:
    """Two lines for people: the AUCs and B - A with its pair-bootstrap interval and p-value, then
    DeLong's z and p and what the test set was."""
    ci = result["delta_ci95"]
    interval = f" [{ci[0]:+.3f}, {ci[1]:+.3f}]" if ci else ""
    on = f"{result['manipulation']}: " if result.get("manipulation") else ""
    first = (f"{on}AUC {result['auc_a']:.3f} (A: {result['a']}) vs {result['auc_b']:.3f} (B: {result['b']}): "
             f"B - A = {result['delta']:+.3f}{interval}, p = {_p(result['p_value'])} "
             f"(paired pair bootstrap, {result['resamples']} resamples, 95% percentile interval)")
    dl = result["delong"]
    second = (f"DeLong (videos as independent): z = {dl['z']:.2f}, p = {_p(dl['p_value'])}; "
              f"{result['n_videos']} test videos ({result['n_real']} real, {result['n_fake']} fake) "
              f"in {result['clusters']} pairs")
    return first + "\n" + second
