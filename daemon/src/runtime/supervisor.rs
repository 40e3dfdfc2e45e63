//! The supervisor: holds the loaded objects, starts an actor per object, restarts the actors
//! whose object changed on reload (and only those), stops the ones whose object went away,
//! and answers the control socket.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Debug;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Mutex, mpsc, oneshot, watch};
use tokio::task::JoinHandle;
use tracing::{info, warn};

use super::actor::{Command, Ctx, spawn_supervised};
use super::writer::Plan;
use super::{Shared, policy, scanner, status, writer};
use crate::config::Loaded;
use crate::config::resolved::{Meta, NamespacedName};
use crate::control::protocol::{Kind, Request, Response};

/// A running actor.
struct Actor {
    /// What it was started from; a different fingerprint on reload restarts it.
    fingerprint: String,
    /// `spec.suspend` of its object.
    spec_suspend: bool,
    inbox: mpsc::Sender<Command>,
    suspended: watch::Sender<bool>,
    task: JoinHandle<()>,
}

/// See the module docs.
pub struct Supervisor {
    shared: Arc<Shared>,
    actors: BTreeMap<(Kind, NamespacedName), Actor>,
    /// Writers told to stop, finishing their current run.
    retiring: Vec<JoinHandle<()>>,
}

/// The name the state store and logs use for a kind.
pub fn kind_name(kind: Kind) -> &'static str {
    match kind {
        Kind::ImageRepository => "ImageRepository",
        Kind::ImagePolicy => "ImagePolicy",
        Kind::ImageUpdateAutomation => "ImageUpdateAutomation",
        Kind::Receiver => "Receiver",
    }
}

/// The config's name for a kind.
fn object_kind(kind: Kind) -> crate::config::objects::Kind {
    use crate::config::objects::Kind as Object;
    match kind {
        Kind::ImageRepository => Object::ImageRepository,
        Kind::ImagePolicy => Object::ImagePolicy,
        Kind::ImageUpdateAutomation => Object::ImageUpdateAutomation,
        Kind::Receiver => Object::Receiver,
    }
}

/// An object's `Debug` text without its position, so moving an object inside its file (or
/// to another file) does not restart its actor.
fn fingerprint<T: Debug>(object: &T, meta: &Meta) -> String {
    let position = format!("{:?}", (&meta.file, meta.mark));
    format!("{object:?}").replace(&position, "")
}

impl Supervisor {
    /// A supervisor with no actors yet.
    pub fn new(shared: Arc<Shared>) -> Self {
        Supervisor {
            shared,
            actors: BTreeMap::new(),
            retiring: Vec::new(),
        }
    }

    /// Makes the running actors match the loaded objects. The state of an object deleted
    /// from the files is forgotten (as Flux deletes a deleted repository's tags); a broken
    /// object only stops until it is fixed, and keeps its state.
    pub fn apply(&mut self, loaded: Loaded) {
        let objects = Arc::new(loaded.objects);
        self.shared.objects.send_replace(Arc::clone(&objects));
        let mut seen = BTreeSet::new();
        for (key, repository) in &objects.image_repositories {
            let fingerprint = fingerprint(repository, &repository.meta);
            self.ensure(
                &mut seen,
                Kind::ImageRepository,
                key,
                fingerprint,
                repository.suspend,
                repository.clone(),
                scanner::run,
            );
        }
        for (key, policy) in &objects.image_policies {
            // The repository's spelling of the image ends up in the result, and its secrets
            // are used to resolve digests.
            let repository = objects.image_repositories.get(&policy.repository);
            let fingerprint = format!(
                "{}{}",
                fingerprint(policy, &policy.meta),
                repository.map(|r| fingerprint(r, &r.meta)).unwrap_or_default()
            );
            self.ensure(
                &mut seen,
                Kind::ImagePolicy,
                key,
                fingerprint,
                policy.suspend,
                policy.clone(),
                policy::run,
            );
        }
        for (key, automation) in &objects.automations {
            let Some(source) = objects.git_repositories.get(&automation.source) else {
                continue;
            };
            let policies: Vec<NamespacedName> = objects
                .image_policies
                .iter()
                .filter(|(k, p)| {
                    k.namespace == key.namespace
                        && automation
                            .policy_selector
                            .as_ref()
                            .is_none_or(|labels| labels.iter().all(|(l, v)| p.meta.labels.get(l) == Some(v)))
                })
                .map(|(k, _)| k.clone())
                .collect();
            let plan = Plan {
                automation: automation.clone(),
                source: source.clone(),
                policies,
            };
            let fingerprint = format!(
                "{}{}{:?}",
                fingerprint(&plan.automation, &automation.meta),
                fingerprint(&plan.source, &source.meta),
                plan.policies
            );
            self.ensure(
                &mut seen,
                Kind::ImageUpdateAutomation,
                key,
                fingerprint,
                automation.suspend,
                plan,
                writer::run,
            );
        }
        let hooks = crate::receiver::server::build(&objects, self.shared.secrets(&objects));
        self.shared.hooks.send_replace(Arc::new(hooks));
        let gone: Vec<_> = self
            .actors
            .keys()
            .filter(|k| !seen.contains(*k))
            .cloned()
            .collect();
        for (kind, key) in gone {
            if let Some(actor) = self.actors.remove(&(kind, key.clone())) {
                info!(kind = kind_name(kind), namespace = %key.namespace, name = %key.name, "object removed; actor stopped");
                self.retire(kind, actor);
                if kind == Kind::ImagePolicy {
                    self.shared.board.forget_policy(&key);
                }
                self.shared
                    .metrics
                    .forget(object_kind(kind), &key.namespace, &key.name);
                if !loaded.declared.contains(&(object_kind(kind), key.clone()))
                    && let Err(e) = self.shared.store.remove(kind_name(kind), &key.to_string())
                {
                    warn!(error = %e, "cannot forget the state of a deleted object");
                }
            }
        }
        self.retiring.retain(|t| !t.is_finished());
    }

    /// Starts the actor of an object, or restarts it when its fingerprint changed.
    #[expect(
        clippy::too_many_arguments,
        reason = "one call per kind, each argument named at the call"
    )]
    fn ensure<T, F, Fut>(
        &mut self,
        seen: &mut BTreeSet<(Kind, NamespacedName)>,
        kind: Kind,
        key: &NamespacedName,
        fingerprint: String,
        spec_suspend: bool,
        object: T,
        body: F,
    ) where
        T: Send + Sync + 'static,
        F: Fn(Ctx<T>) -> Fut + Send + Sync + Copy + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        seen.insert((kind, key.clone()));
        let overridden = self
            .shared
            .store
            .suspended(kind_name(kind), &key.to_string())
            .unwrap_or_else(|e| {
                warn!(error = %e, "cannot read the suspend override");
                false
            });
        if let Some(actor) = self.actors.get_mut(&(kind, key.clone())) {
            if actor.fingerprint == fingerprint {
                actor.spec_suspend = spec_suspend;
                actor
                    .suspended
                    .send_if_modified(|s| std::mem::replace(s, spec_suspend || overridden) != *s);
                return;
            }
            if let Some(old) = self.actors.remove(&(kind, key.clone())) {
                info!(kind = kind_name(kind), namespace = %key.namespace, name = %key.name, "object changed; actor restarted");
                self.retire(kind, old);
            }
        }
        let (inbox, receiver) = mpsc::channel(8);
        let (suspended, suspended_rx) = watch::channel(spec_suspend || overridden);
        let ctx = Ctx {
            shared: Arc::clone(&self.shared),
            object: Arc::new(object),
            key: key.clone(),
            inbox: Arc::new(Mutex::new(receiver)),
            suspended: suspended_rx,
        };
        let task = spawn_supervised(&self.shared.metrics, kind_name(kind), key, move || {
            body(ctx.clone())
        });
        self.actors.insert(
            (kind, key.clone()),
            Actor {
                fingerprint,
                spec_suspend,
                inbox,
                suspended,
                task,
            },
        );
    }

    /// Stops an actor: scanners and policies at once (an abandoned scan loses nothing), a
    /// writer after its current run (closing its inbox ends it between runs).
    fn retire(&mut self, kind: Kind, actor: Actor) {
        if kind == Kind::ImageUpdateAutomation {
            drop(actor.inbox);
            self.retiring.push(actor.task);
        } else {
            actor.task.abort();
        }
    }

    /// Answers one control request. Reconciles are answered from a task of their own, so a
    /// long git push does not hold up other requests.
    pub fn handle(&mut self, request: Request, reply: oneshot::Sender<Response>) {
        let response = match request {
            Request::Get(selector) => {
                let suspended: BTreeMap<_, _> = self
                    .actors
                    .iter()
                    .map(|(k, a)| (k.clone(), *a.suspended.borrow()))
                    .collect();
                let objects = self.shared.objects.borrow().clone();
                status::get(&self.shared, &objects, &suspended, &selector)
            }
            Request::Reconcile {
                kind,
                namespace,
                name,
            } => {
                let key = NamespacedName { namespace, name };
                match self.actors.get(&(kind, key.clone())) {
                    None => not_found(kind, &key),
                    Some(actor) => {
                        let inbox = actor.inbox.clone();
                        tokio::spawn(async move {
                            let (tx, rx) = oneshot::channel();
                            let response = if inbox.send(Command::Reconcile(tx)).await.is_err() {
                                Response::Failed {
                                    message: format!("{} {key} stopped before it could run", kind_name(kind)),
                                }
                            } else {
                                match rx.await {
                                    Ok(Ok(message)) => Response::Done { message },
                                    Ok(Err(message)) => Response::Failed { message },
                                    Err(_) => Response::Failed {
                                        message: format!(
                                            "{} {key} was restarted during the run",
                                            kind_name(kind)
                                        ),
                                    },
                                }
                            };
                            let _ = reply.send(response);
                        });
                        return;
                    }
                }
            }
            Request::Suspend {
                kind,
                namespace,
                name,
            } => self.set_suspended(kind, &NamespacedName { namespace, name }, true),
            Request::Resume {
                kind,
                namespace,
                name,
            } => self.set_suspended(kind, &NamespacedName { namespace, name }, false),
        };
        let _ = reply.send(response);
    }

    fn set_suspended(&mut self, kind: Kind, key: &NamespacedName, suspend: bool) -> Response {
        let Some(actor) = self.actors.get(&(kind, key.clone())) else {
            return not_found(kind, key);
        };
        if !suspend && actor.spec_suspend {
            return Response::Failed {
                message: format!(
                    "{} {key} is suspended by spec.suspend in its file; set it to false there",
                    kind_name(kind)
                ),
            };
        }
        if let Err(e) = self
            .shared
            .store
            .set_suspended(kind_name(kind), &key.to_string(), suspend)
        {
            return Response::Failed {
                message: format!("cannot record the change: {e}"),
            };
        }
        actor.suspended.send_replace(suspend || actor.spec_suspend);
        info!(kind = kind_name(kind), namespace = %key.namespace, name = %key.name, suspend, "suspend changed");
        Response::Done {
            message: format!(
                "{} {key} {}",
                kind_name(kind),
                if suspend { "suspended" } else { "resumed" }
            ),
        }
    }

    /// Stops every actor; writers get up to `grace` to finish a run in progress.
    pub async fn shutdown(mut self, grace: Duration) {
        let mut writers = std::mem::take(&mut self.retiring);
        for ((kind, _), actor) in std::mem::take(&mut self.actors) {
            if kind == Kind::ImageUpdateAutomation {
                drop(actor.inbox);
                writers.push(actor.task);
            } else {
                actor.task.abort();
            }
        }
        let all = futures_join(writers);
        if tokio::time::timeout(grace, all).await.is_err() {
            warn!(?grace, "writers still running at shutdown; abandoning them");
        }
    }
}

/// Waits for every task (the abort handles stay with the tasks if the wait times out).
async fn futures_join(tasks: Vec<JoinHandle<()>>) {
    for task in tasks {
        let _ = task.await;
    }
}

fn not_found(kind: Kind, key: &NamespacedName) -> Response {
    Response::Failed {
        message: format!(
            "{} {key} not found (or not valid: run `imagebump check`)",
            kind_name(kind)
        ),
    }
}
