//! Preparing images before an app is created: the built-in lattice-app is built locally, any
//! other image is used when present and pulled (with progress) when not.

use super::Node;
use crate::demo;
use crate::engine::PullProgress;
use crate::error::{Error, Result};
use crate::logging::log;
use crate::model::ImageProgress;

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
        self.engine.build_image(&reference, context).await?;
        log(format!("built {reference}"));
        Ok(())
    }
}
