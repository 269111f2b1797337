//! The built-in demo app's image: the static `lattice-app` binary that `build.rs` compiled from
//! `lattice_app.rs`, placed alone in a `FROM scratch` image that the node builds on first use.
//!
//! The image is tagged with a digest of the binary, so a new ltc never runs an old demo, and
//! building it is a tar of two files sent to the engine (well under a second here).

use crate::error::{Error, Kind, Result};

static BINARY: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/lattice-app"));

/// The image repository of the built-in app.
pub const REPOSITORY: &str = "ltc/lattice-app";

/// The tag containers are created from: `ltc/lattice-app:<digest>`.
pub fn image_ref() -> String {
    format!("{REPOSITORY}:{}", env!("LTC_DEMO_DIGEST"))
}

/// Whether a user's image name means the built-in app (none given, or the original's name).
pub fn is_builtin(image: Option<&str>) -> bool {
    match image {
        None => true,
        Some(name) => {
            let name = name.strip_prefix("docker.io/").unwrap_or(name);
            name == crate::model::LATTICE_APP_IMAGE
                || name == format!("{}:latest", crate::model::LATTICE_APP_IMAGE)
                || name == REPOSITORY
                || name.starts_with(&format!("{REPOSITORY}:"))
        }
    }
}

const DOCKERFILE: &str = "FROM scratch\n\
COPY lattice-app /lattice-app\n\
COPY passwd /etc/passwd\n\
USER lattice\n\
ENTRYPOINT [\"/lattice-app\"]\n";

/// The original image ran as the user `lattice`; a one-line passwd lets Docker resolve it.
const PASSWD: &str = "lattice:x:1000:1000:lattice:/:/lattice-app\n";

/// The build context: a tar holding the Dockerfile, the binary and its passwd file.
pub fn build_context() -> Result<Vec<u8>> {
    if BINARY.is_empty() {
        return Err(Error::new(
            Kind::Image,
            "this ltc was built without the built-in lattice-app (it needs a Linux target with a static libc)",
        )
        .with_hint("name an image to run: `ltc create APP IMAGE`"));
    }
    let mut builder = tar::Builder::new(Vec::new());
    let mut add = |path: &str, mode: u32, bytes: &[u8]| {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(mode);
        header.set_cksum();
        builder.append_data(&mut header, path, bytes)
    };
    let built = add("Dockerfile", 0o644, DOCKERFILE.as_bytes())
        .and_then(|()| add("lattice-app", 0o755, BINARY))
        .and_then(|()| add("passwd", 0o644, PASSWD.as_bytes()));
    built
        .and_then(|()| builder.into_inner())
        .map_err(|e| Error::failed(format!("cannot pack the built-in image: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_original_image_name_selects_the_builtin_app() {
        assert!(is_builtin(None));
        assert!(is_builtin(Some("cloudfoundry/lattice-app")));
        assert!(is_builtin(Some(
            "docker.io/cloudfoundry/lattice-app:latest"
        )));
        assert!(is_builtin(Some(&image_ref())));
        assert!(!is_builtin(Some("redis")));
        assert!(!is_builtin(Some("cloudfoundry/lattice-app:v2")));
    }

    #[test]
    fn the_build_context_holds_the_dockerfile_and_the_binary() {
        let context = build_context().expect("the demo binary is embedded on Linux");
        let mut archive = tar::Archive::new(context.as_slice());
        let names: Vec<String> = archive
            .entries()
            .unwrap()
            .map(|e| e.unwrap().path().unwrap().display().to_string())
            .collect();
        assert_eq!(names, ["Dockerfile", "lattice-app", "passwd"]);
        assert!(BINARY.len() > 10_000, "the demo binary is a real program");
    }
}
