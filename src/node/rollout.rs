//! New versions of a running app: `update` (a new revision when what runs changes, live when
//! only routes do), `rollback`, `restart`, `history`, and the judging of rollouts in progress.
//!
//! A rollout is a new generation of the app's containers with the previous one kept in the
//! desired state ([`Rollout::from`]); [`converge::plan`] replaces the instances index by
//! index. The converger judges it on every pass: done when every index runs a healthy new
//! instance and no old one is left; failed when a new instance crashes or is not healthy
//! within the health timeout, and then the app goes back to what ran before, keeping the old
//! containers that still serve.

use super::converge::{self, RolloutVerdict};
use super::{Inner, Node, apps::check_placement, resolve};
use crate::error::{Error, Result};
use crate::logging::{log, now_millis, rfc3339_millis};
use crate::model::{
    self, AppName, AppSpec, AppStatus, HISTORY_KEPT, Outcome, RestartRequest, Revision,
    RevisionStatus, RollbackRequest, Rollout, RolloutFailure, RolloutKind, RolloutOptions,
    RolloutResult, RunSpec, UpdateRequest,
};
use std::time::SystemTime;

/// Images of an app's revisions are named `ltc/<app>:<revision>-<home>`, so the image a
/// revision ran stays on the engine for as long as the revision is kept, whatever happens to
/// the name it was given. `<home>` (the start of the home's install id) keeps two homes on one
/// engine from taking each other's names.
pub fn revision_image(install_id: &str, app: &str, release: u64) -> (String, String) {
    (
        format!("ltc/{app}"),
        format!("{release}-{}", home_tag(install_id)),
    )
}

/// The part of image tags that names the home.
pub fn home_tag(install_id: &str) -> &str {
    &install_id[..install_id.len().min(8)]
}

impl Node {
    /// Changes what runs (a new revision, rolled out) and the routes (live).
    pub async fn update(&self, name: &str, request: UpdateRequest) -> Result<AppStatus> {
        let name = AppName::parse(name)?;
        let (current, domain) = {
            let inner = self.lock();
            let spec = inner
                .desired
                .apps
                .get(name.as_str())
                .cloned()
                .ok_or_else(|| Error::app_not_found(name.as_str()))?;
            (spec, inner.config.domain.clone())
        };
        let (run, changed) = self.patched_run(&name, &current, &request).await?;
        let routes = super::patch::patch_routes(
            &name,
            &domain,
            &current.routes,
            &current.run,
            &run,
            &request,
        )?;
        let (edge, edge_changed, _) = super::edge::patch_edge(
            &self.paths.home,
            &name,
            &current.edge,
            (&routes, &domain),
            &request.edge,
        )?;
        let routes_change = routes != current.routes;
        let edge_change = edge != current.edge;
        if changed.is_empty() && !routes_change && !edge_change {
            // Already so: nothing to do, as a script that runs the same update twice expects.
            let inner = self.lock();
            return self
                .status_of(&inner, name.as_str())
                .ok_or_else(|| Error::app_not_found(name.as_str()));
        }
        if changed.is_empty() {
            let what = match (routes_change, request.routes.is_empty()) {
                (false, _) => edge_changed.join(", "),
                (true, true) => "routes changed".to_string(),
                (true, false) => "routes replaced".to_string(),
            };
            return self.replace_routes(&name, routes, edge, &what).await;
        }
        if let Some(rollout) = &current.rollout {
            return Err(busy(&name, rollout));
        }
        let certificates_changed = edge.certificates != current.edge.certificates;
        super::apps::check_binds(&run.volumes)?;
        self.ensure_volumes(&run.volumes).await?;
        let release = next_release(&current);
        let run = self.pin_image(&name, release, run).await?;
        let memory = self.check_engine().await?.memory_bytes;
        let (status, dropped) = {
            let mut inner = self.lock();
            let mut next = inner.desired.clone();
            let spec = next
                .apps
                .get_mut(name.as_str())
                .ok_or_else(|| Error::app_not_found(name.as_str()))?;
            if spec.change != current.change {
                return Err(changed_meanwhile(&name));
            }
            let before_routes = spec.routes.clone();
            spec.routes = routes;
            spec.edge = edge;
            let dropped = begin(
                &self.install_id,
                &mut next,
                name.as_str(),
                NewRevision {
                    run,
                    release,
                    description: changed.join(", "),
                    kind: RolloutKind::Update,
                    options: request.rollout,
                },
            );
            check_placement(&next.apps, memory)?;
            let spec = &next.apps[name.as_str()];
            self.check_routes(&inner, spec)?;
            let after_routes = spec.routes.clone();
            self.commit(&mut inner, next)?;
            self.route_events(name.as_str(), &before_routes, &after_routes);
            let status = self.status_of(&inner, name.as_str()).expect("app exists");
            (status, dropped)
        };
        self.release_images(dropped).await;
        if certificates_changed {
            self.publish_certificates();
        }
        self.announce(&name, &status, RolloutKind::Update, &changed.join(", "));
        Ok(status)
    }

    /// The run settings an update asks for, and what changed. The image is looked up first:
    /// a missing one fails here, before anything changes (exit 15).
    async fn patched_run(
        &self,
        name: &AppName,
        current: &AppSpec,
        request: &UpdateRequest,
    ) -> Result<(RunSpec, Vec<String>)> {
        let image = match &request.image {
            Some(image) => {
                let (shown, reference, builtin, config) = self.image_choice(image).await?;
                let shown = request.built_from.clone().unwrap_or(shown);
                Some((shown, reference, builtin, config))
            }
            None => None,
        };
        // What the old image's metadata gave (USER, EXPOSE) follows a new image.
        let old_image = match &image {
            Some(_) => self
                .engine
                .image_config(&current.run.image_ref)
                .await
                .ok()
                .flatten(),
            None => None,
        };
        super::patch::patch_run(
            name,
            &current.run,
            request,
            image
                .as_ref()
                .map(|(name, reference, builtin, config)| resolve::ImageChoice {
                    name: name.clone(),
                    reference: reference.clone(),
                    builtin: *builtin,
                    config,
                }),
            old_image.as_ref(),
        )
    }

    /// Rolls back to the revision before the current one, or to `--to N`: a new revision
    /// with that one's settings and image, rolled out the same way.
    pub async fn rollback(&self, name: &str, request: RollbackRequest) -> Result<AppStatus> {
        let name = AppName::parse(name)?;
        let memory = self.check_engine().await?.memory_bytes;
        let (status, dropped, description) = {
            let mut inner = self.lock();
            let current = inner
                .desired
                .apps
                .get(name.as_str())
                .cloned()
                .ok_or_else(|| Error::app_not_found(name.as_str()))?;
            if let Some(rollout) = &current.rollout {
                return Err(busy(&name, rollout));
            }
            let target = rollback_target(&current, request.to)?;
            let release = next_release(&current);
            let description = format!("rollback to {}", target.number);
            let mut next = inner.desired.clone();
            let dropped = begin(
                &self.install_id,
                &mut next,
                name.as_str(),
                NewRevision {
                    run: target.run.clone(),
                    release,
                    description: description.clone(),
                    kind: RolloutKind::Rollback,
                    options: request.rollout,
                },
            );
            check_placement(&next.apps, memory)?;
            self.commit(&mut inner, next)?;
            let status = self.status_of(&inner, name.as_str()).expect("app exists");
            (status, dropped, description)
        };
        self.release_images(dropped).await;
        // The new revision keeps the image named for itself, as every revision does.
        let run = self
            .lock()
            .desired
            .apps
            .get(name.as_str())
            .map(|s| s.run.clone());
        if let Some(run) = run
            && let Err(e) = self.pin_image(&name, status.revision, run).await
        {
            log(format!("cannot name the image of {name}: {e}"));
        }
        self.announce(&name, &status, RolloutKind::Rollback, &description);
        Ok(status)
    }

    /// Replaces every instance (or one, `--index`) with a new one of the same revision, in
    /// the same rolling way.
    pub async fn restart(&self, name: &str, request: RestartRequest) -> Result<AppStatus> {
        let name = AppName::parse(name)?;
        self.check_engine().await?;
        let status = {
            let mut inner = self.lock();
            let current = inner
                .desired
                .apps
                .get(name.as_str())
                .cloned()
                .ok_or_else(|| Error::app_not_found(name.as_str()))?;
            if let Some(rollout) = &current.rollout {
                return Err(busy(&name, rollout));
            }
            if let Some(index) = request.index {
                self.retire(&mut inner, &current, index)?;
            } else {
                let mut next = inner.desired.clone();
                let options = request.rollout;
                let spec = next.apps.get_mut(name.as_str()).expect("checked above");
                let generation = next.next_generation;
                next.next_generation += 1;
                let change = next.next_generation;
                next.next_generation += 1;
                let spec_generation = spec.generation;
                spec.rollout = Some(rollout_record(
                    spec,
                    RolloutKind::Restart,
                    change,
                    spec_generation,
                    options,
                ));
                spec.generation = generation;
                spec.change = change;
                if let Some(entry) = spec.history.last_mut() {
                    entry.generations.push(generation);
                }
                self.commit(&mut inner, next)?;
            }
            self.status_of(&inner, name.as_str()).expect("app exists")
        };
        let what = match request.index {
            Some(index) => format!("instance {index}"),
            None => "every instance".into(),
        };
        self.announce(&name, &status, RolloutKind::Restart, &what);
        Ok(status)
    }

    /// Marks the instance at `index` to be replaced by a new one of the same generation.
    fn retire(&self, inner: &mut Inner, spec: &AppSpec, index: u32) -> Result<()> {
        if index >= spec.instances {
            return Err(Error::usage(format!(
                "`{}` has no instance {index} (it has {})",
                spec.name,
                super::plural(spec.instances, "instance")
            )));
        }
        let mut found = false;
        for slot in inner
            .slots
            .iter_mut()
            .filter(|s| s.app == spec.name.as_str() && s.index == index)
        {
            slot.retire = true;
            found = true;
        }
        if !found {
            return Err(Error::failed(format!(
                "instance {index} of `{}` is not running yet: nothing to restart",
                spec.name
            )));
        }
        // A request of its own: a waiter for an earlier change sees it was overtaken.
        let mut next = inner.desired.clone();
        let change = next.next_generation;
        next.next_generation += 1;
        next.apps
            .get_mut(spec.name.as_str())
            .expect("exists")
            .change = change;
        self.commit(inner, next)
    }

    /// The kept revisions of an app, oldest first.
    pub fn history(&self, name: &str) -> Result<Vec<RevisionStatus>> {
        let name = AppName::parse(name)?;
        let inner = self.lock();
        let spec = inner
            .desired
            .apps
            .get(name.as_str())
            .ok_or_else(|| Error::app_not_found(name.as_str()))?;
        Ok(spec
            .history
            .iter()
            .map(|r| RevisionStatus {
                revision: r.number,
                created_at: rfc3339_millis(r.created_at),
                description: r.description.clone(),
                image: r.run.image.clone(),
                image_id: r.run.image_id.clone(),
                outcome: r.outcome.as_str().to_string(),
            })
            .collect())
    }

    /// Judges every rollout in progress: finishes the done ones, reverts the failed ones, and
    /// gives a retired instance back its place when its replacement crashed. True when the
    /// desired state changed.
    pub(super) fn check_rollouts(&self, inner: &mut Inner) -> bool {
        self.keep_failed_retirements(inner);
        let now = SystemTime::now();
        let verdicts: Vec<(String, RolloutVerdict)> = inner
            .desired
            .apps
            .values()
            .filter(|spec| spec.rollout.is_some())
            .map(|spec| {
                let verdict = converge::judge_rollout(spec, &inner.slots, now);
                (spec.name.to_string(), verdict)
            })
            .filter(|(_, v)| !matches!(v, RolloutVerdict::InProgress { .. }))
            .collect();
        if verdicts.is_empty() {
            return false;
        }
        let mut next = inner.desired.clone();
        for (name, verdict) in verdicts {
            let spec = next.apps.get_mut(&name).expect("judged above");
            match verdict {
                RolloutVerdict::Done => self.finish(spec),
                RolloutVerdict::Failed {
                    index,
                    guid,
                    reason,
                } => {
                    let logs = inner
                        .slot(&guid)
                        .map(|s| s.last_output.clone())
                        .unwrap_or_default();
                    self.revert(spec, index, reason, logs);
                }
                RolloutVerdict::InProgress { .. } => {}
            }
        }
        match self.commit(inner, next) {
            Ok(()) => true,
            Err(e) => {
                log(format!("cannot record the end of a rollout: {e}"));
                false
            }
        }
    }

    /// A rollout that replaced every instance.
    fn finish(&self, spec: &mut AppSpec) {
        let Some(rollout) = spec.rollout.take() else {
            return;
        };
        for entry in &mut spec.history {
            if entry.number == spec.release {
                entry.outcome = Outcome::Active;
            } else if entry.outcome == Outcome::Active || entry.outcome == Outcome::Deploying {
                entry.outcome = Outcome::Superseded;
            }
        }
        spec.last_rollout = Some(RolloutResult {
            kind: rollout.kind,
            change: rollout.change,
            release: spec.release,
            ok: true,
            failure: None,
            finished_at: now_millis(),
        });
        let what = match rollout.kind {
            RolloutKind::Restart => format!("revision {} restarted", spec.release),
            _ => format!("revision {} rolled out", spec.release),
        };
        log(format!("{}: {what}", spec.name));
        self.logs
            .event("rollout_finished", spec.name.as_str(), None, None, what);
    }

    /// A rollout whose new instance failed: the app goes back to what ran before; the old
    /// instances that still run stay, the new ones are replaced by old ones the rolling way.
    fn revert(&self, spec: &mut AppSpec, index: u32, reason: String, logs: Vec<String>) {
        let Some(rollout) = spec.rollout.take() else {
            return;
        };
        let failed = spec.release;
        spec.run = rollout.from.clone();
        spec.generation = rollout.from_generation;
        spec.release = rollout.from_release;
        for entry in &mut spec.history {
            if entry.number == failed && rollout.kind != RolloutKind::Restart {
                entry.outcome = Outcome::Failed;
            } else if entry.number == spec.release {
                entry.outcome = Outcome::Active;
            }
        }
        let message = format!(
            "revision {failed}: instance {index} failed ({reason}); back to revision {}",
            spec.release
        );
        log(format!("{}: rollout failed: {message}", spec.name));
        self.logs.publish(
            spec.name.as_str(),
            "LTC",
            Some(index),
            &format!("Rollout failed: {message}"),
        );
        self.logs.event(
            "rollout_failed",
            spec.name.as_str(),
            Some(index),
            None,
            message,
        );
        spec.last_rollout = Some(RolloutResult {
            kind: rollout.kind,
            change: rollout.change,
            release: failed,
            ok: false,
            failure: Some(RolloutFailure {
                index,
                reason,
                logs,
            }),
            finished_at: now_millis(),
        });
    }

    /// An instance retired by `restart --index` whose replacement crashed takes its place
    /// back (the crashed one is then the duplicate the plan stops).
    fn keep_failed_retirements(&self, inner: &mut Inner) {
        let crashed: Vec<(String, u32)> = inner
            .slots
            .iter()
            .filter(|s| !s.retire && s.state == crate::model::InstanceState::Crashed)
            .map(|s| (s.app.clone(), s.index))
            .collect();
        for slot in inner.slots.iter_mut().filter(|s| s.retire) {
            if crashed.contains(&(slot.app.clone(), slot.index)) {
                log(format!(
                    "{}/{}: its replacement crashed; it keeps serving",
                    slot.app, slot.index
                ));
                slot.retire = false;
            }
        }
    }

    /// The image an update names, present on the engine: (name, reference, builtin, config).
    async fn image_choice(
        &self,
        image: &str,
    ) -> Result<(String, String, bool, crate::engine::ImageConfig)> {
        let builtin = crate::demo::is_builtin(Some(image));
        let reference = if builtin {
            self.ensure_demo_image(&|_| {}).await?;
            crate::demo::image_ref()
        } else {
            image.trim().to_string()
        };
        if reference.is_empty() || reference.contains(char::is_whitespace) {
            return Err(Error::usage(format!("`{image}` is not an image name")));
        }
        let config = self
            .engine
            .image_config(&reference)
            .await?
            .ok_or_else(|| crate::engine::EngineError::ImageNotFound(reference.clone()))?;
        Ok((image.to_string(), reference, builtin, config))
    }

    /// Runs the revision's image by its id, so a name moved to another image later (a new
    /// pull of the same tag) changes nothing that runs; and names it `ltc/<app>:<revision>`,
    /// so it stays on the engine for as long as the revision is kept.
    pub(super) async fn pin_image(
        &self,
        app: &AppName,
        release: u64,
        mut run: RunSpec,
    ) -> Result<RunSpec> {
        if run.builtin {
            return Ok(run);
        }
        if let Some(id) = &run.image_id {
            run.image_ref = id.clone();
        }
        let (repository, tag) = revision_image(&self.install_id, app.as_str(), release);
        self.engine
            .tag_image(&run.image_ref, &repository, &tag)
            .await?;
        Ok(run)
    }

    /// Removes the names of revisions no longer kept.
    async fn release_images(&self, references: Vec<String>) {
        release_images(self.engine.as_ref(), references).await;
    }

    /// Replaces the routes, live (an update that changes nothing else).
    async fn replace_routes(
        &self,
        name: &AppName,
        routes: model::Routes,
        edge: model::Edge,
        what: &str,
    ) -> Result<AppStatus> {
        let certificates_changed = {
            let inner = self.lock();
            inner
                .desired
                .apps
                .get(name.as_str())
                .is_some_and(|spec| spec.edge.certificates != edge.certificates)
        };
        let (before, status) = {
            let mut inner = self.lock();
            let mut next = inner.desired.clone();
            let change = next.next_generation;
            next.next_generation += 1;
            let spec = next
                .apps
                .get_mut(name.as_str())
                .ok_or_else(|| Error::app_not_found(name.as_str()))?;
            let before = std::mem::replace(&mut spec.routes, routes.clone());
            spec.edge = edge;
            spec.change = change;
            let spec = spec.clone();
            self.check_routes(&inner, &spec)?;
            self.commit(&mut inner, next)?;
            (
                before,
                self.status_of(&inner, name.as_str()).expect("app exists"),
            )
        };
        if certificates_changed {
            self.publish_certificates();
        }
        self.wait_for_tcp_routes(&routes).await?;
        log(format!("updated {name}: {what}"));
        self.logs
            .event("app_updated", name.as_str(), None, None, what.into());
        self.route_events(name.as_str(), &before, &routes);
        Ok(status)
    }

    /// Tells the logs and events that a rollout began, and wakes the converger.
    fn announce(&self, name: &AppName, status: &AppStatus, kind: RolloutKind, what: &str) {
        let message = match kind {
            RolloutKind::Restart => format!("restarting {what}"),
            _ => format!("revision {}: {what}", status.revision),
        };
        log(format!("{name}: {message}"));
        self.logs
            .event("rollout_started", name.as_str(), None, None, message);
        self.kick();
    }
}

/// Removes image names ltc gave revisions (`ltc/<app>:<revision>`).
pub(super) async fn release_images(engine: &dyn crate::engine::Engine, references: Vec<String>) {
    for reference in references {
        if let Err(e) = engine.untag_image(&reference).await {
            log(format!("cannot remove image {reference}: {e}"));
        }
    }
}

/// The image names ltc gave an app's kept revisions.
pub(super) fn image_names(install_id: &str, spec: &AppSpec) -> Vec<String> {
    spec.history
        .iter()
        .filter(|r| !r.run.builtin)
        .map(|r| {
            let (repository, tag) = revision_image(install_id, spec.name.as_str(), r.number);
            format!("{repository}:{tag}")
        })
        .chain([format!("ltc/{}:build-{}", spec.name, home_tag(install_id))])
        .collect()
}

/// The revision number after every one the app has had (failed ones included).
fn next_release(spec: &AppSpec) -> u64 {
    spec.history
        .iter()
        .map(|r| r.number)
        .chain([spec.release])
        .max()
        .unwrap_or(0)
        + 1
}

/// The revision `rollback` goes to: `--to N`, or the last one that ran before the current.
fn rollback_target(spec: &AppSpec, to: Option<u64>) -> Result<&Revision> {
    let name = &spec.name;
    match to {
        Some(number) if number == spec.release => Err(Error::usage(format!(
            "`{name}` runs revision {number} already"
        ))),
        Some(number) => spec
            .history
            .iter()
            .find(|r| r.number == number)
            .ok_or_else(|| {
                let kept: Vec<String> = spec.history.iter().map(|r| r.number.to_string()).collect();
                Error::usage(format!(
                    "`{name}` has no revision {number} (kept: {})",
                    kept.join(", ")
                ))
                .with_hint(format!("`ltc history {name}` lists them"))
            }),
        None => spec
            .history
            .iter()
            .rev()
            .find(|r| r.number != spec.release && r.outcome != Outcome::Failed)
            .ok_or_else(|| {
                Error::failed(format!("`{name}` has no earlier revision to roll back to"))
                    .with_hint(format!("`ltc history {name}` lists its revisions"))
            }),
    }
}

/// A revision about to be rolled out.
struct NewRevision {
    run: RunSpec,
    release: u64,
    description: String,
    kind: RolloutKind,
    options: RolloutOptions,
}

/// Makes `run` the app's new revision `release` and starts its rollout. Returns the image
/// names of revisions no longer kept.
fn begin(
    install_id: &str,
    next: &mut crate::node::store::DesiredState,
    name: &str,
    revision: NewRevision,
) -> Vec<String> {
    let NewRevision {
        run,
        release,
        description,
        kind,
        options,
    } = revision;
    let generation = next.next_generation;
    next.next_generation += 1;
    let change = next.next_generation;
    next.next_generation += 1;
    let spec = next.apps.get_mut(name).expect("the caller checked");
    spec.ensure_history();
    let from_generation = spec.generation;
    spec.rollout = Some(rollout_record(spec, kind, change, from_generation, options));
    spec.history.push(Revision {
        number: release,
        created_at: now_millis(),
        description,
        run: run.clone(),
        generations: vec![generation],
        outcome: Outcome::Deploying,
    });
    spec.run = run;
    spec.generation = generation;
    spec.release = release;
    spec.change = change;
    let excess = spec.history.len().saturating_sub(HISTORY_KEPT);
    let dropped: Vec<Revision> = spec.history.drain(..excess).collect();
    dropped
        .iter()
        .filter(|r| !r.run.builtin)
        .map(|r| {
            let (repository, tag) = revision_image(install_id, name, r.number);
            format!("{repository}:{tag}")
        })
        .collect()
}

/// The record of a rollout that replaces what `spec` runs now.
fn rollout_record(
    spec: &AppSpec,
    kind: RolloutKind,
    change: u64,
    from_generation: u64,
    options: RolloutOptions,
) -> Rollout {
    Rollout {
        kind,
        change,
        from: spec.run.clone(),
        from_generation,
        from_release: spec.release,
        max_surge: options.max_surge.unwrap_or(model::DEFAULT_MAX_SURGE).max(1),
        health_timeout_ms: options
            .health_timeout_ms
            .unwrap_or(model::DEFAULT_HEALTH_TIMEOUT.as_millis() as u64),
        started_at: now_millis(),
    }
}

/// Another rollout of the app is under way: refused, not queued.
fn busy(name: &AppName, rollout: &Rollout) -> Error {
    Error::conflict(format!(
        "`{name}` was changed by another request: a {} is rolling out (from revision {})",
        match rollout.kind {
            RolloutKind::Update => "new revision",
            RolloutKind::Rollback => "rollback",
            RolloutKind::Restart => "restart",
        },
        rollout.from_release
    ))
    .with_hint(format!(
        "wait for it (`ltc status {name}` shows its progress), then try again"
    ))
}

fn changed_meanwhile(name: &AppName) -> Error {
    Error::conflict(format!(
        "`{name}` was changed by another request while this update was prepared"
    ))
    .with_hint(format!("`ltc status {name}` shows it now; try again"))
}
