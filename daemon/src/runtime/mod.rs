//! The daemon at run time: load the objects, start an actor per object under a supervisor,
//! serve HTTP and the control socket, reload on change and on SIGHUP, stop on SIGTERM.
//!
//! Actors are tokio tasks that own their state and talk through channels (see `board`);
//! what must survive a restart goes through the state store.

pub mod access;
pub mod actor;
pub mod board;
pub mod budget;
pub mod policy;
pub mod scanner;
pub mod status;
pub mod supervisor;
pub mod writer;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::{mpsc, watch};
use tracing::{error, info, warn};

use crate::config::file::{Autologin, Clouds};
use crate::config::{self, Config, Objects};
use crate::http::{self, Health, HttpState};
use crate::metrics::Metrics;
use crate::receiver::server::{HookState, Hooks};
use crate::receiver::{self, GoogleVerifier};
use crate::state::Store;
use crate::systemd::Notifier;
use access::Clients;
use board::Board;
use budget::ScanBudget;
use imagebump_auth::{Cloud, CloudObserver, CloudOptions, CloudProviders};
use supervisor::Supervisor;

/// How long writers get to finish a run in progress at shutdown.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// Edits arrive as bursts of file events (an editor's write-rename, `cp -r`); wait this long
/// after the last one before reloading.
const RELOAD_SETTLE: Duration = Duration::from_millis(300);

/// What every actor may use. Nothing in here is mutated by actors except through channels
/// (`board`, `objects`) and the transactional store.
pub struct Shared {
    /// The state store.
    pub store: Store,
    /// Prometheus metrics.
    pub metrics: Arc<Metrics>,
    /// Published tag sets and policy results.
    pub board: Board,
    /// The objects of the last (re)load; Secrets are looked up here at each use.
    pub objects: watch::Sender<Arc<Objects>>,
    /// `secrets_dir`.
    pub secrets_dir: Option<PathBuf>,
    /// `state_dir` (the git clone cache lives under it).
    pub state_dir: PathBuf,
    /// The webhook receivers of the last (re)load, by path digest.
    pub hooks: watch::Sender<Arc<Hooks>>,
    /// Registry clients, one per distinct TLS/proxy setting.
    pub clients: Clients,
    /// Scans running at once, in all and per registry.
    pub scan_budget: ScanBudget,
    /// ECR, GCP and ACR logins, each with its token cache.
    pub clouds: CloudProviders,
    /// `[autologin]`.
    pub autologin: Autologin,
}

/// Cloud login events counted in the metrics.
struct CloudMetrics(Arc<Metrics>);

impl CloudObserver for CloudMetrics {
    fn token_request(&self, cloud: Cloud, ok: bool) {
        self.0.cloud_token_request(cloud.name(), ok);
    }

    fn cache(&self, cloud: Cloud, hit: bool) {
        self.0.cloud_token_cache(cloud.name(), hit);
    }
}

/// The cloud providers `[aws]`, `[gcp]` and `[azure]` describe, over what the environment
/// says (`AWS_*`, `GOOGLE_APPLICATION_CREDENTIALS`, `GCE_METADATA_HOST`, `AZURE_*`).
fn cloud_providers(settings: &Clouds, metrics: &Arc<Metrics>) -> CloudProviders {
    let mut options = CloudOptions::from_env();
    let (aws, gcp, azure) = (&settings.aws, &settings.gcp, &settings.azure);
    options.aws.endpoint_url.clone_from(&aws.endpoint_url);
    options.aws.region.clone_from(&aws.region);
    if gcp.credentials_file.is_some() {
        options.gcp.credentials_file.clone_from(&gcp.credentials_file);
    }
    if gcp.metadata_host.is_some() {
        options.gcp.metadata_host.clone_from(&gcp.metadata_host);
    }
    if let Some(host) = &azure.authority_host {
        options.azure.authority_host.clone_from(host);
    }
    if let Some(endpoint) = &azure.imds_endpoint {
        options.azure.imds_endpoint.clone_from(endpoint);
    }
    options.azure.exchange_base.clone_from(&azure.exchange_base);
    options.observer = Some(Arc::new(CloudMetrics(Arc::clone(metrics))));
    CloudProviders::new(options)
}

/// How many scans run at once; the rest wait for a slot. (Flux's image-reflector-controller
/// reconciles 4 objects at once by default.)
const CONCURRENT_SCANS: usize = 8;

/// How many of them may talk to one registry.
const CONCURRENT_SCANS_PER_REGISTRY: usize = 4;

/// Runs the daemon until SIGTERM or SIGINT.
pub async fn run(config: Config) -> anyhow::Result<()> {
    let notifier = Notifier::from_env();
    let store = Store::open(&config.state_dir)?;
    let metrics = Arc::new(Metrics::new());
    let (health, health_rx) = watch::channel(Health::Starting);
    let http_listener = http::bind(config.http_listen).await?;
    let control_listener = crate::control::server::bind(&config.control_socket)?;
    let shared = Arc::new(Shared {
        store,
        metrics: Arc::clone(&metrics),
        board: Board::default(),
        objects: watch::Sender::new(Arc::new(Objects::default())),
        secrets_dir: config.secrets_dir.clone(),
        state_dir: config.state_dir.clone(),
        hooks: watch::Sender::new(Arc::new(Hooks::new())),
        clients: Clients::default(),
        scan_budget: ScanBudget::new(CONCURRENT_SCANS, CONCURRENT_SCANS_PER_REGISTRY),
        clouds: cloud_providers(&config.clouds, &metrics),
        autologin: config.clouds.autologin,
    });
    let mut supervisor = Supervisor::new(Arc::clone(&shared));
    supervisor.apply(load(&config, &metrics, &notifier));
    health.send_replace(Health::Ready);

    let (stop, stopped) = watch::channel(false);
    let hooks = receiver::server::routes(
        HookState {
            hooks: shared.hooks.subscribe(),
            shared: Arc::clone(&shared),
            google: Arc::new(GoogleVerifier::new(config.webhooks.google_jwks_url.clone())),
            refusals: Arc::default(),
        },
        config.webhooks.max_body_bytes,
    );
    let router = http::router(HttpState {
        metrics: Arc::clone(&metrics),
        health: health_rx,
    })
    .merge(hooks);
    let mut http_stop = stopped.clone();
    let http_task = tokio::spawn(http::serve(http_listener, router, async move {
        let _ = http_stop.wait_for(|s| *s).await;
    }));
    let (requests, mut control) = mpsc::channel(16);
    let control_task = tokio::spawn(crate::control::server::serve(
        control_listener,
        requests,
        stopped.clone(),
    ));
    let (reload_tx, mut reloads) = mpsc::channel(1);
    let _watcher = watch_objects(&config, reload_tx.clone());
    let mut hangup = signal(SignalKind::hangup()).context("installing the SIGHUP handler")?;
    let mut terminate = signal(SignalKind::terminate()).context("installing the SIGTERM handler")?;
    let mut interrupt = signal(SignalKind::interrupt()).context("installing the SIGINT handler")?;
    let watchdog = notifier.watchdog_interval();
    let mut watchdog_tick = tokio::time::interval(watchdog.unwrap_or(Duration::from_hours(1)));

    info!(
        http = %config.http_listen,
        control = %config.control_socket.display(),
        state = %shared.store.path().display(),
        "imagebump daemon ready"
    );
    notifier.ready();
    loop {
        tokio::select! {
            Some((request, reply)) = control.recv() => supervisor.handle(request, reply),
            Some(()) = reloads.recv() => {
                tokio::time::sleep(RELOAD_SETTLE).await;
                while reloads.try_recv().is_ok() {}
                reload(&config, &metrics, &notifier, &mut supervisor);
            }
            _ = hangup.recv() => {
                info!("SIGHUP: reloading the objects");
                reload(&config, &metrics, &notifier, &mut supervisor);
            }
            _ = terminate.recv() => break,
            _ = interrupt.recv() => break,
            _ = watchdog_tick.tick(), if watchdog.is_some() => notifier.watchdog(),
        }
    }
    info!("stopping: letting writers finish their current run");
    notifier.stopping();
    health.send_replace(Health::NotReady("shutting down".to_owned()));
    supervisor.shutdown(SHUTDOWN_GRACE).await;
    let _ = stop.send(true);
    let _ = control_task.await;
    if let Ok(Err(e)) = http_task.await {
        warn!(error = %e, "HTTP server ended with an error");
    }
    info!("stopped");
    Ok(())
}

fn reload(config: &Config, metrics: &Metrics, notifier: &Notifier, supervisor: &mut Supervisor) {
    notifier.reloading();
    supervisor.apply(load(config, metrics, notifier));
    notifier.ready();
}

/// Loads every object, logging each problem with its file and line. Invalid objects are left
/// out; the others run.
fn load(config: &Config, metrics: &Metrics, notifier: &Notifier) -> config::Loaded {
    let loaded = config::load_objects(config);
    for diagnostic in &loaded.diagnostics {
        if diagnostic.is_error() {
            error!("{diagnostic}");
        } else {
            warn!("{diagnostic}");
        }
    }
    let (errors, warnings) = (loaded.errors(), loaded.warnings());
    let objects = &loaded.objects;
    metrics.set_objects(
        &[
            ("ImageRepository", objects.image_repositories.len()),
            ("ImagePolicy", objects.image_policies.len()),
            ("ImageUpdateAutomation", objects.automations.len()),
            ("GitRepository", objects.git_repositories.len()),
            ("Receiver", objects.receivers.len()),
            ("Secret", objects.secrets.len()),
        ],
        errors,
    );
    info!(
        repositories = objects.image_repositories.len(),
        policies = objects.image_policies.len(),
        automations = objects.automations.len(),
        errors,
        warnings,
        "objects loaded"
    );
    // `systemctl status imagebump` shows this line.
    notifier.status(&format!(
        "{} repositories, {} policies, {} automations; {errors} errors in the objects",
        objects.image_repositories.len(),
        objects.image_policies.len(),
        objects.automations.len()
    ));
    loaded
}

/// Watches the object files and directories and `secrets_dir` (a rotated webhook token
/// changes a receiver's path); every event asks for a reload. `None` (logged) when watching is impossible; SIGHUP
/// still works then.
fn watch_objects(config: &Config, reload: mpsc::Sender<()>) -> Option<notify::RecommendedWatcher> {
    use notify::{RecursiveMode, Watcher as _};
    let handler = move |event: notify::Result<notify::Event>| {
        if event.is_ok_and(|e| !e.kind.is_access()) {
            // A full channel means a reload is already pending.
            let _ = reload.try_send(());
        }
    };
    let mut watcher = match notify::recommended_watcher(handler) {
        Ok(watcher) => watcher,
        Err(e) => {
            warn!(error = %e, "cannot watch the object files; reload with SIGHUP");
            return None;
        }
    };
    let secrets = config.secrets_dir.iter().filter(|d| d.is_dir());
    for path in config.objects.iter().map(|(p, _)| p).chain(secrets) {
        if let Err(e) = watcher.watch(path, RecursiveMode::Recursive) {
            warn!(path = %path.display(), error = %e, "cannot watch; reload with SIGHUP");
        }
    }
    Some(watcher)
}
