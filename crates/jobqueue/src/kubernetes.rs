//! A blockwork cluster on Kubernetes, as manifests: a scheduler
//! Deployment and its Service (the cluster port and the HTTP API), a
//! worker Deployment with CPU and memory requests and limits (each
//! worker's `--memory-limit` is its container's limit, read through the
//! downward API, its name its pod's), an optional Secret of TLS files
//! mounted in both, and an
//! optional KEDA `ScaledObject` that scales the workers to the
//! scheduler's adaptive target (`GET /api/v1/adaptive_target`, its
//! `workers` field).
//!
//! Workers that Kubernetes scales down get SIGTERM, on which a worker asks
//! the scheduler to retire it: its results move to the other workers
//! before it exits. The pods are given `terminationGracePeriodSeconds`
//! for that.
//!
//! The text is YAML whose every string is a JSON string (JSON is YAML), so
//! no value can break the document; the test command validates it
//! against Kubernetes' OpenAPI schemas. The Helm chart under
//! `deploy/helm/blockwork` renders the same objects from its values (a
//! test compares the two).

use crate::spec::JobQueueError;

/// What to deploy.
#[derive(Clone, Debug, PartialEq)]
pub struct KubeSpec {
    /// Prefix of every object's name (`NAME-scheduler`, `NAME-worker`).
    pub name: String,
    /// The namespace, if not the current one.
    pub namespace: Option<String>,
    /// The container image (the repository's `deploy/Dockerfile`).
    pub image: String,
    /// Worker pods at the start.
    pub workers: u32,
    /// CPU cores per worker (its request and limit, and its threads).
    pub worker_cores: u32,
    /// Memory per worker, bytes (its request and limit, and the worker's
    /// `--memory-limit`).
    pub worker_memory: u64,
    /// Workers run `python -m blockwork worker` (Python tasks run there)
    /// rather than the `blockwork` binary.
    pub python: bool,
    /// TLS files (PEM text: authority, certificate, key) as a Secret
    /// mounted in every pod.
    pub tls: Option<[String; 3]>,
    /// Scale the workers between these counts from the adaptive target
    /// (a KEDA `ScaledObject`).
    pub adapt: Option<(u32, u32)>,
    /// How long a worker has to retire when its pod is stopped, seconds.
    pub grace_seconds: u32,
}

impl KubeSpec {
    /// `workers` workers of `cores` cores and `memory` (e.g. `"8GiB"`) from
    /// `image`, named `blockwork`.
    pub fn new(image: &str, workers: u32, cores: u32, memory: &str) -> Result<KubeSpec, JobQueueError> {
        let spec = KubeSpec {
            name: "blockwork".into(),
            namespace: None,
            image: image.into(),
            workers,
            worker_cores: cores,
            worker_memory: crate::spec::parse_memory(memory)?,
            python: false,
            tls: None,
            adapt: None,
            grace_seconds: 120,
        };
        spec.validate()?;
        Ok(spec)
    }

    /// Refuses what Kubernetes would: names that are not DNS labels, no
    /// cores, adaptive bounds the wrong way round.
    pub fn validate(&self) -> Result<(), JobQueueError> {
        let label = |s: &str| {
            !s.is_empty()
                && s.len() <= 50
                && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !s.starts_with('-')
                && !s.ends_with('-')
        };
        if !label(&self.name) {
            return Err(JobQueueError::Invalid(format!(
                "kubernetes: the name {:?} must be lowercase letters, digits and '-' (at most 50, not starting or ending with '-')",
                self.name
            )));
        }
        if let Some(ns) = &self.namespace {
            if !label(ns) {
                return Err(JobQueueError::Invalid(format!("kubernetes: the namespace {ns:?} is not a DNS label")));
            }
        }
        if self.worker_cores == 0 || self.worker_memory == 0 {
            return Err(JobQueueError::Invalid("kubernetes: workers need at least one core and some memory".into()));
        }
        if self.image.trim().is_empty() {
            return Err(JobQueueError::Invalid("kubernetes: give the image to run".into()));
        }
        if let Some((lo, hi)) = self.adapt {
            if lo > hi || hi == 0 {
                return Err(JobQueueError::Invalid(format!(
                    "kubernetes: adapt {lo}:{hi}: give MIN:MAX with MAX ≥ MIN, MAX > 0"
                )));
            }
        }
        Ok(())
    }
}

/// The cluster port and the HTTP API's port.
const PORT: u16 = 8786;
const HTTP_PORT: u16 = 8787;

/// A YAML scalar: the JSON string of `s`.
fn q(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A YAML flow list of strings.
fn list(items: &[String]) -> String {
    format!("[{}]", items.iter().map(|s| q(s)).collect::<Vec<_>>().join(", "))
}

/// Base64 (standard alphabet, padded), for a Secret's `data`.
fn base64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn metadata(spec: &KubeSpec, name: &str, component: &str) -> String {
    let mut m = format!("metadata:\n  name: {}\n", q(name));
    if let Some(ns) = &spec.namespace {
        m.push_str(&format!("  namespace: {}\n", q(ns)));
    }
    m.push_str(&format!(
        "  labels:\n    app.kubernetes.io/name: \"blockwork\"\n    app.kubernetes.io/instance: {}\n    app.kubernetes.io/component: {}\n",
        q(&spec.name),
        q(component)
    ));
    m
}

fn selector(spec: &KubeSpec, component: &str, indent: &str) -> String {
    format!(
        "{indent}app.kubernetes.io/name: \"blockwork\"\n{indent}app.kubernetes.io/instance: {}\n{indent}app.kubernetes.io/component: {}\n",
        q(&spec.name),
        q(component)
    )
}

/// The TLS flags and the volume that holds their files.
fn tls_parts(spec: &KubeSpec) -> (Vec<String>, String, String) {
    if spec.tls.is_none() {
        return (Vec::new(), String::new(), String::new());
    }
    let flags = ["--tls-ca-file", "/etc/blockwork/tls/ca.pem", "--tls-cert", "/etc/blockwork/tls/cert.pem"]
        .into_iter()
        .chain(["--tls-key", "/etc/blockwork/tls/key.pem"])
        .map(str::to_string)
        .collect();
    let mount = "          volumeMounts:\n            - name: \"tls\"\n              mountPath: \"/etc/blockwork/tls\"\n              readOnly: true\n".to_string();
    let volume = format!(
        "      volumes:\n        - name: \"tls\"\n          secret:\n            secretName: {}\n",
        q(&format!("{}-tls", spec.name))
    );
    (flags, mount, volume)
}

/// Every manifest, as one multi-document YAML text.
pub fn manifests(spec: &KubeSpec) -> Result<String, JobQueueError> {
    spec.validate()?;
    let scheduler = format!("{}-scheduler", spec.name);
    let worker = format!("{}-worker", spec.name);
    let (tls_flags, mount, volume) = tls_parts(spec);
    let mut docs = Vec::new();

    if let Some([ca, cert, key]) = &spec.tls {
        docs.push(format!(
            "apiVersion: v1\nkind: Secret\n{}type: Opaque\ndata:\n  ca.pem: {}\n  cert.pem: {}\n  key.pem: {}\n",
            metadata(spec, &format!("{}-tls", spec.name), "tls"),
            q(&base64(ca.as_bytes())),
            q(&base64(cert.as_bytes())),
            q(&base64(key.as_bytes()))
        ));
    }

    let mut args: Vec<String> =
        ["scheduler", "--host", "0.0.0.0", "--port", &PORT.to_string()].into_iter().map(str::to_string).collect();
    args.extend(["--dashboard-address".into(), format!(":{HTTP_PORT}")]);
    args.extend(tls_flags.iter().cloned());
    docs.push(format!(
        "apiVersion: apps/v1\nkind: Deployment\n{meta}spec:\n  replicas: 1\n  selector:\n    matchLabels:\n{sel}  template:\n    metadata:\n      labels:\n{tsel}    spec:\n      containers:\n        - name: \"scheduler\"\n          image: {image}\n          imagePullPolicy: \"IfNotPresent\"\n          args: {args}\n          ports:\n            - name: \"cluster\"\n              containerPort: {PORT}\n            - name: \"http\"\n              containerPort: {HTTP_PORT}\n          readinessProbe:\n            httpGet:\n              path: \"/api/v1/workers\"\n              port: {HTTP_PORT}\n          resources:\n            requests:\n              cpu: \"1\"\n              memory: \"1Gi\"\n{mount}{volume}",
        meta = metadata(spec, &scheduler, "scheduler"),
        sel = selector(spec, "scheduler", "      "),
        tsel = selector(spec, "scheduler", "        "),
        image = q(&spec.image),
        args = list(&args),
    ));

    docs.push(format!(
        "apiVersion: v1\nkind: Service\n{meta}spec:\n  selector:\n{sel}  ports:\n    - name: \"cluster\"\n      port: {PORT}\n      targetPort: {PORT}\n    - name: \"http\"\n      port: {HTTP_PORT}\n      targetPort: {HTTP_PORT}\n",
        meta = metadata(spec, &scheduler, "scheduler"),
        sel = selector(spec, "scheduler", "    "),
    ));

    let mut args: Vec<String> = vec![
        "worker".into(),
        format!("tcp://{scheduler}:{PORT}"),
        "--nthreads".into(),
        spec.worker_cores.to_string(),
        "--memory-limit".into(),
        "$(MEMORY_LIMIT)".into(),
        "--name".into(),
        "$(POD_NAME)".into(),
    ];
    args.extend(tls_flags.iter().cloned());
    let command = if spec.python {
        format!("          command: {}\n", list(&["python".into(), "-m".into(), "blockwork".into()]))
    } else {
        String::new()
    };
    let replicas = spec.adapt.map_or(spec.workers, |(lo, hi)| spec.workers.clamp(lo, hi));
    docs.push(format!(
        "apiVersion: apps/v1\nkind: Deployment\n{meta}spec:\n  replicas: {replicas}\n  selector:\n    matchLabels:\n{sel}  template:\n    metadata:\n      labels:\n{tsel}    spec:\n      terminationGracePeriodSeconds: {grace}\n      containers:\n        - name: \"worker\"\n          image: {image}\n          imagePullPolicy: \"IfNotPresent\"\n{command}          args: {args}\n          env:\n            - name: \"POD_NAME\"\n              valueFrom:\n                fieldRef:\n                  fieldPath: \"metadata.name\"\n            - name: \"MEMORY_LIMIT\"\n              valueFrom:\n                resourceFieldRef:\n                  containerName: \"worker\"\n                  resource: \"limits.memory\"\n          resources:\n            requests:\n              cpu: {cores}\n              memory: {memory}\n            limits:\n              cpu: {cores}\n              memory: {memory}\n{mount}{volume}",
        meta = metadata(spec, &worker, "worker"),
        sel = selector(spec, "worker", "      "),
        tsel = selector(spec, "worker", "        "),
        grace = spec.grace_seconds,
        image = q(&spec.image),
        args = list(&args),
        cores = q(&spec.worker_cores.to_string()),
        memory = q(&spec.worker_memory.to_string()),
    ));

    if let Some((lo, hi)) = spec.adapt {
        docs.push(format!(
            "apiVersion: keda.sh/v1alpha1\nkind: ScaledObject\n{meta}spec:\n  scaleTargetRef:\n    name: {worker}\n  minReplicaCount: {lo}\n  maxReplicaCount: {hi}\n  pollingInterval: 5\n  cooldownPeriod: 60\n  triggers:\n    - type: \"metrics-api\"\n      metricType: \"Value\"\n      metadata:\n        targetValue: \"1\"\n        url: {url}\n        valueLocation: \"workers\"\n",
            meta = metadata(spec, &format!("{}-workers", spec.name), "autoscaler"),
            worker = q(&worker),
            url = q(&format!("http://{scheduler}:{HTTP_PORT}/api/v1/adaptive_target")),
        ));
    }
    Ok(docs.iter().map(|d| format!("---\n{d}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_pads_as_the_standard_says() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    }

    #[test]
    fn strings_are_quoted_so_nothing_breaks_the_document() {
        assert_eq!(q("a\"b\\c\nd"), r#""a\"b\\c\nd""#);
        assert_eq!(q("\u{1}"), r#""\u0001""#);
    }

    #[test]
    fn manifests_hold_the_pieces_asked_for() {
        let mut spec = KubeSpec::new("ghcr.io/x/blockwork:1", 3, 4, "8GiB").unwrap();
        let text = manifests(&spec).unwrap();
        assert_eq!(text.matches("---\n").count(), 3, "{text}");
        assert!(text.contains("replicas: 3"));
        assert!(text.contains(r#""--memory-limit", "$(MEMORY_LIMIT)", "--name", "$(POD_NAME)""#), "{text}");
        assert!(text.contains(r#"memory: "8589934592""#) && text.contains(r#"resource: "limits.memory""#), "{text}");
        assert!(!text.contains("ScaledObject") && !text.contains("kind: Secret"));
        spec.tls = Some(["CA".into(), "CERT".into(), "KEY".into()]);
        spec.adapt = Some((1, 10));
        spec.python = true;
        spec.namespace = Some("science".into());
        let text = manifests(&spec).unwrap();
        assert!(text.contains("kind: Secret") && text.contains(r#"ca.pem: "Q0E=""#), "{text}");
        assert!(text.contains("kind: ScaledObject") && text.contains("/api/v1/adaptive_target"), "{text}");
        assert!(text.contains(r#"command: ["python", "-m", "blockwork"]"#), "{text}");
        assert!(text.contains(r#""--tls-key", "/etc/blockwork/tls/key.pem""#), "{text}");
        assert_eq!(text.matches("namespace: \"science\"").count(), 5);
    }

    #[test]
    fn what_kubernetes_would_refuse_is_refused_here() {
        let mut spec = KubeSpec::new("img", 1, 1, "1GiB").unwrap();
        spec.name = "Blockwork_1".into();
        assert!(manifests(&spec).unwrap_err().to_string().contains("lowercase"));
        spec.name = "ok".into();
        spec.adapt = Some((5, 2));
        assert!(manifests(&spec).unwrap_err().to_string().contains("MIN:MAX"));
        assert!(KubeSpec::new("img", 1, 0, "1GiB").is_err());
        assert!(KubeSpec::new("img", 1, 1, "lots").is_err());
    }
}
