//! `blockwork kubernetes`: prints the manifests of a cluster on
//! Kubernetes (`kubectl apply -f -` takes them).

use anyhow::Context;
use blockwork_jobqueue::{manifests, KubeSpec};

/// Options of `blockwork kubernetes`.
#[derive(clap::Args)]
pub struct KubernetesArgs {
    /// The image of the scheduler and workers (built from deploy/Dockerfile).
    #[arg(long, default_value = "blockwork:latest")]
    image: String,
    /// Prefix of the objects' names.
    #[arg(long, default_value = "blockwork")]
    name: String,
    /// Namespace of the objects (default: the current one).
    #[arg(long)]
    namespace: Option<String>,
    /// Worker pods at the start.
    #[arg(long, default_value_t = 2)]
    workers: u32,
    /// CPU cores per worker (request, limit and threads).
    #[arg(long, default_value_t = 1)]
    worker_cores: u32,
    /// Memory per worker (request, limit and --memory-limit), e.g. 4GiB.
    #[arg(long, default_value = "4GiB")]
    worker_memory: String,
    /// Workers run `python -m blockwork worker`, so that Python tasks run there.
    #[arg(long)]
    python: bool,
    /// Scale the workers between MIN and MAX from the scheduler's adaptive
    /// target (a KEDA ScaledObject), e.g. 1:20.
    #[arg(long, value_name = "MIN:MAX")]
    adapt: Option<String>,
    /// Seconds a stopped worker has to hand its results over.
    #[arg(long, default_value_t = 120)]
    grace_seconds: u32,
    #[command(flatten)]
    tls: crate::serve::TlsArgs,
}

pub fn run(args: KubernetesArgs) -> anyhow::Result<()> {
    let mut spec = KubeSpec::new(&args.image, args.workers, args.worker_cores, &args.worker_memory)?;
    spec.name = args.name;
    spec.namespace = args.namespace;
    spec.python = args.python;
    spec.grace_seconds = args.grace_seconds;
    if let Some(bounds) = &args.adapt {
        let parsed = bounds.split_once(':').and_then(|(a, b)| Some((a.parse().ok()?, b.parse().ok()?)));
        spec.adapt = Some(parsed.ok_or_else(|| anyhow::anyhow!("--adapt {bounds:?}: give MIN:MAX, e.g. 1:20"))?);
    }
    if let Some(files) = args.tls.files() {
        let read = |p: &std::path::Path| std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()));
        spec.tls = Some([read(&files.ca)?, read(&files.cert)?, read(&files.key)?]);
    }
    print!("{}", manifests(&spec)?);
    Ok(())
}
