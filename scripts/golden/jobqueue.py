#!/usr/bin/env python3
"""Golden submission scripts for blockwork-jobqueue's tests, rendered by
dask-jobqueue for the same parameters.

Writes crates/jobqueue/tests/golden/cases.json: per case, the queue, the
parameters and dask-jobqueue's script. The tests compare every line but
the worker command. Run with the reference environment:
/tmp/ref/venv/bin/python scripts/golden/jobqueue.py
"""

import json
import os

import dask_jobqueue

CLASSES = {
    "slurm": dask_jobqueue.SLURMCluster,
    "pbs": dask_jobqueue.PBSCluster,
    "sge": dask_jobqueue.SGECluster,
    "lsf": dask_jobqueue.LSFCluster,
}

CASES = [
    {"cores": 24, "memory": "100GB", "processes": 4, "queue": "regular", "account": "proj", "walltime": "02:00:00"},
    {"cores": 1, "memory": "1GB", "processes": 1, "walltime": "00:10:00"},
    {"cores": 8, "memory": "16GiB", "processes": 2, "queue": "debug", "walltime": "00:30:00",
     "job_extra_directives": ["--exclusive"], "job_script_prologue": ["module load python", "source env.sh"]},
    {"cores": 36, "memory": "500MB", "processes": 6, "account": "geo", "walltime": "12:00:00",
     "local_directory": "/scratch/w"},
]


def main():
    out = []
    for system, cls in CLASSES.items():
        for case in CASES:
            kw = dict(case)
            kw["job_name"] = "bw"
            if system in ("sge", "lsf") and "account" in kw:
                kw["project"] = kw.pop("account")
            if system == "lsf":
                kw["lsf_units"] = "kb"
                kw["use_stdin"] = True
            if system != "slurm":
                kw["job_extra_directives"] = []
            cluster = cls(**kw, scheduler_options={"dashboard_address": None})
            try:
                script = cluster.job_script()
            finally:
                cluster.close()
            params = dict(case, name="bw")  # blockwork's job name is its `name`
            if system != "slurm":
                params["job_extra_directives"] = []
            out.append({"system": system, "params": params, "script": script})
    path = os.path.join(os.path.dirname(__file__), "..", "..", "crates", "jobqueue", "tests", "golden", "cases.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print(f"wrote {len(out)} cases to {os.path.normpath(path)}")


if __name__ == "__main__":
    main()
