#!/usr/bin/env python3
"""Checks examples/kubernetes/stats-indexed-job.yaml without a cluster (needs python3's yaml module).

    python3 check_k8s_yaml.py FILE                                  structure only
    python3 check_k8s_yaml.py FILE --run VITLENS INPUTS MODEL WORK  ... and runs its shell commands

Structure: the file parses; an Indexed Job with completions == parallelism == its SHARDS, whose command
uses JOB_COMPLETION_INDEX; a merge Job with the same SHARDS; both mount one ReadWriteMany claim that the
file declares. --run plays the pods locally: /data/images becomes INPUTS, /data/models/dinov2-small
MODEL, the rest of /data WORK/data; each index's command runs with JOB_COMPLETION_INDEX set, then the
merge Job's init and main commands; the merged folder is WORK/data/out/merged. Exit 0 when all holds, 1 otherwise (one line says what).
"""
import os
import subprocess
import sys

import yaml


def fail(message):
    print(f"k8s example: {message}", file=sys.stderr)
    sys.exit(1)


def env_value(container, name):
    for item in container.get("env", []):
        if item.get("name") == name:
            return item.get("value")
    return None


def script(container):
    command, args = container.get("command", []), container.get("args", [])
    if command[:2] != ["/bin/sh", "-c"] or len(args) != 1:
        fail(f"container {container.get('name')}: expected command /bin/sh -c and one script argument")
    return args[0]


def claims(pod):
    return {v["persistentVolumeClaim"]["claimName"] for v in pod.get("volumes", []) if "persistentVolumeClaim" in v}


def check(path):
    try:
        with open(path) as handle:
            documents = [d for d in yaml.safe_load_all(handle) if d is not None]
    except (OSError, yaml.YAMLError) as error:
        fail(f"{path}: {error}".replace("\n", " "))
    for document in documents:
        if not all(k in document for k in ("apiVersion", "kind", "metadata")) or "name" not in document["metadata"]:
            fail(f"{path}: a document without apiVersion, kind or metadata.name")
    jobs = [d for d in documents if d["kind"] == "Job"]
    indexed = [j for j in jobs if j["spec"].get("completionMode") == "Indexed"]
    others = [j for j in jobs if j["spec"].get("completionMode") != "Indexed"]
    if len(indexed) != 1 or len(others) != 1:
        fail(f"{path}: expected one Indexed Job and one merge Job, found {len(indexed)} and {len(others)}")
    stats, merge = indexed[0], others[0]
    spec = stats["spec"]
    shards = spec.get("completions")
    if not isinstance(shards, int) or shards < 1 or spec.get("parallelism") != shards:
        fail(f"{path}: completions ({shards}) and parallelism ({spec.get('parallelism')}) must be one positive number")
    stats_pod, merge_pod = stats["spec"]["template"]["spec"], merge["spec"]["template"]["spec"]
    stats_container = stats_pod["containers"][0]
    if "JOB_COMPLETION_INDEX" not in script(stats_container) or "--shard" not in script(stats_container):
        fail(f"{path}: the Indexed Job's command does not pass --shard with JOB_COMPLETION_INDEX")
    for container in [stats_container] + merge_pod.get("initContainers", []) + merge_pod["containers"]:
        if env_value(container, "SHARDS") != str(shards):
            fail(f"{path}: container {container['name']} has SHARDS={env_value(container, 'SHARDS')}, not {shards}")
    declared = {d["metadata"]["name"] for d in documents if d["kind"] == "PersistentVolumeClaim"
                and "ReadWriteMany" in d["spec"].get("accessModes", [])}
    if not claims(stats_pod) or claims(stats_pod) != claims(merge_pod) or not claims(stats_pod) <= declared:
        fail(f"{path}: both Jobs must mount one ReadWriteMany claim declared in the file "
             f"(stats {sorted(claims(stats_pod))}, merge {sorted(claims(merge_pod))}, declared {sorted(declared)})")
    print(f"{path}: Indexed Job of {shards} (completions = parallelism), merge Job, shared claim "
          f"{sorted(declared)[0]}: structure ok")
    return shards, stats_container, merge_pod


def localise(text, vitlens, data, inputs, model):
    """The pod's script with the volume's inputs and model at their local places, /data at WORK/data."""
    for volume_path, local in (("/data/images", inputs), ("/data/models/dinov2-small", model), ("/data", data)):
        text = text.replace(volume_path, os.path.abspath(local))
    return text.replace("vitlens stats ", f"{vitlens} stats ").replace("vitlens merge ", f"{vitlens} merge ")


def run(shards, stats_container, merge_pod, vitlens, inputs, model, work):
    data = os.path.join(work, "data")
    os.makedirs(os.path.join(data, "out"), exist_ok=True)
    base = dict(os.environ, SHARDS=str(shards))
    for index in range(shards):
        env = dict(base, JOB_COMPLETION_INDEX=str(index))
        done = subprocess.run(["/bin/sh", "-c", localise(script(stats_container), vitlens, data, inputs, model)], env=env)
        if done.returncode != 0:
            fail(f"pod {index} of the Indexed Job exited {done.returncode}")
    for container in merge_pod.get("initContainers", []) + merge_pod["containers"]:
        done = subprocess.run(["/bin/sh", "-c", localise(script(container), vitlens, data, inputs, model)], env=base, timeout=120)
        if done.returncode != 0:
            fail(f"merge Job container {container['name']} exited {done.returncode}")
    print(f"played {shards} pods and the merge Job locally: {os.path.join(data, 'out', 'merged')}")


def main():
    args = sys.argv[1:]
    if len(args) == 1:
        check(args[0])
    elif len(args) == 6 and args[1] == "--run":
        run(*check(args[0]), *args[2:])
    else:
        print("usage: check_k8s_yaml.py FILE [--run VITLENS INPUTS MODEL WORK]", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
