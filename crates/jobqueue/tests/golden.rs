//! Submission scripts against dask-jobqueue's for the same parameters
//! (`tests/golden/cases.json`, written by `scripts/golden/jobqueue.py`):
//! every line but the worker command is the same.

use blockwork_jobqueue::{job_script, JobSpec, System};

fn text(v: &serde_json::Value, key: &str) -> Option<String> {
    v.get(key).and_then(|x| x.as_str()).map(str::to_string)
}

fn strings(v: &serde_json::Value, key: &str) -> Vec<String> {
    v.get(key)
        .and_then(|x| x.as_array())
        .map(|xs| xs.iter().filter_map(|x| x.as_str().map(str::to_string)).collect())
        .unwrap_or_default()
}

#[test]
fn scripts_match_dask_jobqueue_but_for_the_worker_command() {
    let cases: serde_json::Value = serde_json::from_str(include_str!("golden/cases.json")).expect("cases.json is JSON");
    let cases = cases.as_array().expect("a list of cases");
    assert!(cases.len() >= 16);
    for case in cases {
        let system = System::parse(case["system"].as_str().unwrap()).unwrap();
        let p = &case["params"];
        let mut spec = JobSpec::new(p["cores"].as_u64().unwrap() as u32, p["memory"].as_str().unwrap())
            .unwrap()
            .processes(p["processes"].as_u64().unwrap() as u32)
            .name(p["name"].as_str().unwrap());
        spec.queue = text(p, "queue");
        spec.account = text(p, "account");
        spec.walltime = text(p, "walltime");
        spec.local_directory = text(p, "local_directory");
        spec.job_extra_directives = strings(p, "job_extra_directives");
        spec.job_script_prologue = strings(p, "job_script_prologue");
        let ours = job_script(system, &spec, "tcp://10.0.0.1:8786", "0");
        let theirs = case["script"].as_str().unwrap();
        let head = |s: &str, worker: &str| -> Vec<String> {
            s.lines().take_while(|l| !l.contains(worker)).map(str::to_string).collect()
        };
        let (a, b) = (head(&ours, "blockwork worker"), head(theirs, "dask_worker"));
        let a: Vec<String> = a.into_iter().filter(|l| !l.starts_with("for i in")).collect();
        assert_eq!(a, b, "{system} {p}\n--- ours\n{ours}\n--- dask-jobqueue\n{theirs}");
    }
}
