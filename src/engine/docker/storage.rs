//! Images, volumes and files: building an image from a context, naming and unnaming images,
//! named volumes with their sizes, and reading a file out of a container.

use super::{BollardError, DockerEngine, HashMap, LONG_CALL_TIMEOUT, label_filters};
use crate::engine::{BuildOptions, ContainerId, EngineError, EngineResult, VolumeInfo};
use bollard::query_parameters::{
    BuildImageOptionsBuilder, RemoveImageOptionsBuilder, TagImageOptionsBuilder,
};
use futures_util::StreamExt;

impl DockerEngine {
    pub(super) async fn build(
        &self,
        tag: &str,
        context: Vec<u8>,
        options: &BuildOptions,
        output: &(dyn Fn(String) + Send + Sync),
    ) -> EngineResult<()> {
        let docker = self.client().await?.with_timeout(LONG_CALL_TIMEOUT);
        let args: HashMap<String, String> = options.build_args.iter().cloned().collect();
        // `forcerm`: the container of a step that failed goes too (`rm` removes only those of
        // steps that succeeded).
        let mut builder = BuildImageOptionsBuilder::default()
            .t(tag)
            .rm(true)
            .forcerm(true);
        if !options.dockerfile.is_empty() {
            builder = builder.dockerfile(&options.dockerfile);
        }
        if !args.is_empty() {
            builder = builder.buildargs(&args);
        }
        let body = bollard::body_full(context.into());
        let mut stream = docker.build_image(builder.build(), None, Some(body));
        while let Some(item) = stream.next().await {
            let info = match item {
                Ok(info) => info,
                // The engine reports a failed step as an error of the stream.
                Err(BollardError::DockerStreamError { error }) => {
                    return Err(EngineError::Build { message: error });
                }
                Err(BollardError::DockerResponseServerError { message, .. }) => {
                    return Err(EngineError::Build { message });
                }
                Err(e) => return Err(self.map_error("image build", e)),
            };
            if let Some(detail) = info.error_detail {
                return Err(EngineError::Build {
                    message: detail.message.unwrap_or_default(),
                });
            }
            if let Some(text) = info.stream {
                for line in text.lines().filter(|l| !l.trim().is_empty()) {
                    output(line.to_string());
                }
            }
        }
        Ok(())
    }

    pub(super) async fn read_container_file(
        &self,
        id: &ContainerId,
        path: &str,
    ) -> EngineResult<Option<Vec<u8>>> {
        let docker = self.client().await?;
        let options = bollard::query_parameters::DownloadFromContainerOptionsBuilder::default()
            .path(path)
            .build();
        let mut stream = docker.download_from_container(&id.0, Some(options));
        let mut archive = Vec::new();
        while let Some(chunk) = stream.next().await {
            match chunk {
                Ok(bytes) => archive.extend_from_slice(&bytes),
                Err(BollardError::DockerResponseServerError {
                    status_code: 404, ..
                }) => return Ok(None),
                Err(e) => return Err(self.map_error("file download", e)),
            }
            if archive.len() > 2 << 20 {
                break;
            }
        }
        let mut tar = tar::Archive::new(archive.as_slice());
        let Ok(mut entries) = tar.entries() else {
            return Ok(None);
        };
        let Some(Ok(mut entry)) = entries.next() else {
            return Ok(None);
        };
        let mut contents = Vec::new();
        use std::io::Read;
        let _ = entry.by_ref().take(1 << 20).read_to_end(&mut contents);
        Ok(Some(contents))
    }

    pub(super) async fn make_volume(
        &self,
        name: &str,
        labels: &std::collections::BTreeMap<String, String>,
    ) -> EngineResult<()> {
        let docker = self.client().await?;
        let request = bollard::models::VolumeCreateRequest {
            name: Some(name.to_string()),
            labels: Some(labels.clone().into_iter().collect()),
            ..Default::default()
        };
        docker
            .create_volume(request)
            .await
            .map(|_| ())
            .map_err(|e| self.map_error("volume create", e))
    }

    pub(super) async fn volumes_labelled(
        &self,
        labels: &[(String, String)],
    ) -> EngineResult<Vec<VolumeInfo>> {
        let docker = self.client().await?;
        let options = bollard::query_parameters::ListVolumesOptionsBuilder::default()
            .filters(&label_filters(labels))
            .build();
        let listed = docker
            .list_volumes(Some(options))
            .await
            .map_err(|e| self.map_error("volume list", e))?;
        let sizes = self.volume_sizes().await.unwrap_or_default();
        Ok(listed
            .volumes
            .unwrap_or_default()
            .into_iter()
            .map(|v| VolumeInfo {
                size: sizes.get(&v.name).copied(),
                name: v.name,
                labels: v.labels.into_iter().collect(),
            })
            .collect())
    }

    pub(super) async fn drop_volume(&self, name: &str) -> EngineResult<()> {
        let docker = self.client().await?;
        match docker
            .remove_volume(name, None::<bollard::query_parameters::RemoveVolumeOptions>)
            .await
        {
            Ok(()) => Ok(()),
            Err(BollardError::DockerResponseServerError {
                status_code: 404, ..
            }) => Ok(()),
            Err(BollardError::DockerResponseServerError { message, .. }) => {
                Err(EngineError::Conflict(message))
            }
            Err(e) => Err(self.map_error("volume remove", e)),
        }
    }

    pub(super) async fn name_image(
        &self,
        image: &str,
        repository: &str,
        tag: &str,
    ) -> EngineResult<()> {
        let docker = self.client().await?;
        let options = TagImageOptionsBuilder::default()
            .repo(repository)
            .tag(tag)
            .build();
        docker
            .tag_image(image, Some(options))
            .await
            .map_err(|e| self.map_error("image tag", e))
    }

    pub(super) async fn unname_image(&self, reference: &str) -> EngineResult<()> {
        let docker = self.client().await?;
        let options = RemoveImageOptionsBuilder::default().noprune(false).build();
        match docker.remove_image(reference, Some(options), None).await {
            Ok(_) => Ok(()),
            // Gone already, or its last name and still used by a container: the engine keeps
            // it, and nothing of ltc's depends on the name any more.
            Err(BollardError::DockerResponseServerError {
                status_code: 404 | 409,
                ..
            }) => Ok(()),
            Err(e) => Err(self.map_error("image remove", e)),
        }
    }
}
