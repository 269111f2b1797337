//! Named volumes (`--volume NAME:/path`): made by the node when an app first mounts them,
//! labelled with the home, shared by every instance of the apps that mount them, and kept
//! across restarts, crashes, new revisions and node restarts. `ltc remove APP --volumes`
//! removes the ones no other app mounts; `ltc volumes` lists them.

use super::Node;
use super::patch::volume_name;
use crate::engine::labels;
use crate::error::{Error, Result};
use crate::logging::log;
use crate::model::{Volume, VolumeStatus};
use std::collections::BTreeMap;

impl Node {
    /// Makes the named volumes among `volumes` that do not exist yet.
    pub(super) async fn ensure_volumes(&self, volumes: &[Volume]) -> Result<()> {
        for volume in volumes.iter().filter(|v| !v.is_bind()) {
            let labels = BTreeMap::from([
                (labels::INSTALL.to_string(), self.install_id.clone()),
                (
                    labels::HOME.to_string(),
                    self.paths.home.display().to_string(),
                ),
                (labels::VOLUME.to_string(), volume.source.clone()),
            ]);
            self.engine
                .create_volume(&volume_name(&self.install_id, &volume.source), &labels)
                .await?;
        }
        Ok(())
    }

    /// This home's named volumes, with their sizes and the apps that mount them.
    pub async fn volumes(&self) -> Result<Vec<VolumeStatus>> {
        let listed = self.engine.list_volumes(&self.owner_labels()).await?;
        let users = self.volume_users();
        Ok(listed
            .into_iter()
            .filter_map(|v| {
                let name = v.labels.get(labels::VOLUME)?.clone();
                Some(VolumeStatus {
                    apps: users.get(&name).cloned().unwrap_or_default(),
                    docker_name: v.name,
                    size_bytes: v.size,
                    name,
                })
            })
            .collect())
    }

    /// Removes a named volume no app mounts.
    pub async fn remove_volume(&self, name: &str) -> Result<()> {
        if let Some(apps) = self.volume_users().get(name) {
            return Err(Error::conflict(format!(
                "volume `{name}` is mounted by {}",
                apps.join(", ")
            ))
            .with_hint("remove those apps first (`ltc remove APP --volumes`)"));
        }
        let known = self.volumes().await?.into_iter().any(|v| v.name == name);
        if !known {
            return Err(Error::not_found(format!("volume `{name}` not found"))
                .with_hint("`ltc volumes` lists them"));
        }
        self.engine
            .remove_volume(&volume_name(&self.install_id, name))
            .await?;
        log(format!("removed volume {name}"));
        Ok(())
    }

    /// After a removed app's last container is gone: its named volumes that no other app
    /// mounts, when the removal asked for them.
    pub(super) async fn release_volumes(&self, volumes: Vec<Volume>) {
        let users = self.volume_users();
        for volume in volumes.iter().filter(|v| !v.is_bind()) {
            if users.contains_key(&volume.source) {
                continue;
            }
            let name = volume_name(&self.install_id, &volume.source);
            match self.engine.remove_volume(&name).await {
                Ok(()) => log(format!("removed volume {}", volume.source)),
                Err(e) => log(format!("cannot remove volume {}: {e}", volume.source)),
            }
        }
    }

    /// Named volume → the desired apps that mount it (in any kept revision's settings, the
    /// current one's first).
    fn volume_users(&self) -> BTreeMap<String, Vec<String>> {
        let inner = self.lock();
        let mut users: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for spec in inner.desired.apps.values().chain(inner.removing.values()) {
            for volume in spec.run.volumes.iter().filter(|v| !v.is_bind()) {
                let apps = users.entry(volume.source.clone()).or_default();
                if !apps.contains(&spec.name.to_string()) {
                    apps.push(spec.name.to_string());
                }
            }
        }
        users
    }
}
