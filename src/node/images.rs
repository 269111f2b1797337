//! Preparing images before an app is created: the built-in lattice-app is built locally, any
//! other image is used when present and pulled (with progress) when not.

use super::Node;
use crate::demo;
use crate::engine::{BuildOptions, EngineError, PullProgress};
use crate::error::{Error, Result};
use crate::logging::log;
use crate::model::{BuildRequest, ImageProgress};

/// Lines of a failed build step's output kept for its error.
const BUILD_FAILURE_LINES: usize = 20;

impl Node {
    // ----- images -------------------------------------------------------------------------

    /// Makes sure the image exists locally: builds the built-in one, pulls any other.
    pub async fn prepare_image(
        &self,
        image: Option<&str>,
        progress: &(dyn Fn(ImageProgress) + Send + Sync),
    ) -> Result<String> {
        if demo::is_builtin(image) {
            self.ensure_demo_image(progress).await?;
            return Ok(demo::image_ref());
        }
        let image = image.unwrap_or_default().trim();
        if image.is_empty() || image.contains(char::is_whitespace) {
            return Err(Error::usage(format!("`{image}` is not an image name")));
        }
        if self.engine.image_config(image).await?.is_some() {
            return Ok(image.to_string());
        }
        progress(ImageProgress::Status {
            message: format!("Pulling image {image}"),
        });
        let forward = |p: PullProgress| {
            progress(match p {
                PullProgress::Status(message) => ImageProgress::Status { message },
                PullProgress::Layer {
                    id,
                    status,
                    current,
                    total,
                } => ImageProgress::Layer {
                    id,
                    status,
                    current,
                    total,
                },
            })
        };
        self.engine.pull_image(image, &forward).await?;
        Ok(image.to_string())
    }

    /// Builds an app's image from a directory, sending each line of the build's output, and
    /// names it `ltc/<app>:build-<home>`. A failed build says which step failed and what it printed.
    pub async fn build_image(
        &self,
        app: &str,
        build: &BuildRequest,
        progress: &(dyn Fn(ImageProgress) + Send + Sync),
    ) -> Result<String> {
        let app = crate::model::AppName::parse(app)?;
        let dir = std::path::PathBuf::from(&build.path);
        if !dir.is_absolute() {
            return Err(Error::usage(format!(
                "the build directory `{}` must be an absolute path",
                build.path
            )));
        }
        let dockerfile = build
            .dockerfile
            .as_deref()
            .unwrap_or("Dockerfile")
            .to_string();
        for arg in &build.build_args {
            crate::model::validate_env_name(&arg.name)?;
        }
        let context = {
            let dir = dir.clone();
            let dockerfile = dockerfile.clone();
            tokio::task::spawn_blocking(move || super::context::pack(&dir, &dockerfile))
                .await
                .map_err(|e| Error::failed(format!("packing the build context failed: {e}")))??
        };
        progress(ImageProgress::Status {
            message: format!(
                "Building {} ({} of context)",
                dir.display(),
                crate::ui::format_bytes(context.len() as u64)
            ),
        });
        let tag = format!(
            "ltc/{app}:build-{}",
            super::rollout::home_tag(&self.install_id)
        );
        let options = BuildOptions {
            dockerfile,
            build_args: build
                .build_args
                .iter()
                .map(|v| (v.name.clone(), v.value.clone()))
                .collect(),
        };
        let output = std::sync::Mutex::new(std::collections::VecDeque::new());
        let step = std::sync::Mutex::new(String::new());
        let report = |line: String| {
            if line.starts_with("Step ") {
                *step.lock().expect("build step") = line.clone();
                output.lock().expect("build output").clear();
            } else {
                let mut lines = output.lock().expect("build output");
                if lines.len() == BUILD_FAILURE_LINES {
                    lines.pop_front();
                }
                lines.push_back(line.clone());
            }
            progress(ImageProgress::Output { line });
        };
        match self
            .engine
            .build_image(&tag, context, &options, &report)
            .await
        {
            Ok(()) => {
                log(format!("built {tag} from {}", dir.display()));
                Ok(tag)
            }
            Err(EngineError::Build { message }) => {
                let step = step.into_inner().expect("build step");
                let lines: Vec<String> = output.into_inner().expect("build output").into();
                let mut text = format!("the build of {} failed", dir.display());
                if !step.is_empty() {
                    text.push_str(&format!(" at {step}"));
                }
                text.push_str(&format!(": {message}"));
                if !lines.is_empty() {
                    text.push_str(&format!("\n{}", lines.join("\n")));
                }
                Err(Error::failed(text).with_hint(
                    "fix the Dockerfile or the files it uses, then run the command again",
                ))
            }
            Err(e) => Err(e.into()),
        }
    }

    pub(super) async fn ensure_demo_image(
        &self,
        progress: &(dyn Fn(ImageProgress) + Send + Sync),
    ) -> Result<()> {
        let _one_build = self.demo_build.lock().await;
        let reference = demo::image_ref();
        if self.engine.image_config(&reference).await?.is_some() {
            return Ok(());
        }
        progress(ImageProgress::Status {
            message: format!("Building the built-in lattice-app image {reference}"),
        });
        let context = demo::build_context()?;
        self.engine
            .build_image(&reference, context, &Default::default(), &|_| {})
            .await?;
        log(format!("built {reference}"));
        Ok(())
    }
}
